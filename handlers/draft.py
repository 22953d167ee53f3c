"""The brief draft in FSM data: what outlives it, pausing and finding it again."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext

from handlers.states import IN_FORM, Brief, step_of

# FSM data that outlives a draft: the deep-link source, the marketing offer on screen.
KEEP = ("source", "mk")


async def kept(state: FSMContext) -> dict[str, Any]:
    """The FSM data a new draft starts from (KEEP only)."""
    data = await state.get_data()
    return {k: data[k] for k in KEEP if k in data}


async def clear_draft(state: FSMContext, **extra: Any) -> None:
    """Ends the draft (and any pending question); keeps KEEP and sets `extra`."""
    data = {**await kept(state), **extra}
    await state.set_state(None)
    await state.set_data(data)


async def pause(state: FSMContext) -> str | None:
    """Puts a draft being filled on hold, so the next text is a question for the FAQ.
    Returns the step it stopped at ("summary" included), or None when there was no draft."""
    current = await state.get_state()
    if current not in IN_FORM:
        return None
    step = step_of(current)
    await state.update_data(paused=step, editing=False)
    await state.set_state(Brief.paused)
    return step


async def unfinished(state: FSMContext) -> str | None:
    """The step of an unfinished draft, being filled or paused."""
    current = await state.get_state()
    if current == Brief.paused.state:
        return str((await state.get_data()).get("paused") or "business")
    return step_of(current)
