"""A TCP proxy in front of the Bot API stand-in that can break connections on demand."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct


class FaultyProxy:
    """Forwards 127.0.0.1 connections to `target_port`, unless told to fail them:

    - "pass":  forward both ways;
    - "close": close every new connection as soon as it is accepted;
    - "reset": read the start of the request, then reset the connection (RST, not FIN);
    Connections already open are cut too when the mode changes away from "pass".
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.mode = "pass"
        self.port = 0
        self.accepted = 0
        self._server: asyncio.base_events.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        if mode != "pass":
            self.cut()

    def cut(self) -> None:
        for writer in list(self._open):
            _reset(writer)
        self._open.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode == "close":
            writer.close()
            return
        if self.mode == "reset":
            with contextlib.suppress(Exception):
                await asyncio.wait_for(reader.read(64), 2)
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._open.update((writer, up_writer))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer), return_exceptions=True)
        self._open.difference_update((writer, up_writer))
        for w in (writer, up_writer):
            w.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    with contextlib.suppress(OSError):
        writer.write_eof()


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
