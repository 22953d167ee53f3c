"""CLI contract: python -m faq ask/check/eval (run as subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from faq.evaluation import BLIND_SPLITS

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faq", *args], input=stdin, capture_output=True,
        text=True, encoding="utf-8", cwd=ROOT, timeout=60,
    )


def parse_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_ask_json_args():
    p = run("ask", "--json", "сколько стоит ваши услуги", "какая погода завтра")
    assert p.returncode == 0, p.stderr
    rows = parse_lines(p.stdout)
    assert len(rows) == 2
    a, b = rows
    assert set(a) == {"query", "id", "score", "answer", "suggestions"}
    assert a["query"] == "сколько стоит ваши услуги"
    assert a["id"] == "pricing" and "/brief" in a["answer"]
    assert isinstance(a["score"], (int, float)) and isinstance(a["suggestions"], list)
    assert b["id"] is None and b["answer"] is None
    assert "сколько стоит" in p.stdout  # ensure_ascii=False


def test_ask_json_stdin_keeps_order():
    qs = ["what is smm", "как отозвать согласие", "рецепт борща", "skolko zhdat rezultata"]
    p = run("ask", "--json", stdin="\n".join(qs) + "\n")
    assert p.returncode == 0, p.stderr
    rows = parse_lines(p.stdout)
    assert [r["query"] for r in rows] == qs
    assert [r["id"] for r in rows] == ["what_is_smm", "privacy_withdraw", None, "time_to_results"]
    for r in rows:
        assert all(isinstance(s, str) for s in r["suggestions"])


def test_ask_unsure_lists_suggestions():
    p = run("ask", "--json", "есть ли смысл вообще лезть в соцсети")
    (row,) = parse_lines(p.stdout)
    assert row["id"] is None and row["answer"] is None and 1 <= len(row["suggestions"]) <= 3


def test_ask_readable():
    p = run("ask", "как отписаться от рассылки", "погода")
    assert p.returncode == 0
    assert "/unsubscribe" in p.stdout
    assert "no exact answer" in p.stdout


def test_check_ok():
    p = run("check")
    assert p.returncode == 0
    assert p.stdout.startswith("OK: ") and "entries" in p.stdout


def test_check_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries:\n  - id: Bad Id\n    title: t\n    question: q\n    phrasings: [x]\n"
                   "    answer: ''\n", encoding="utf-8")
    p = run("check", "--path", str(bad))
    assert p.returncode == 1
    assert "bad id" in p.stdout and "empty answer" in p.stdout and str(bad) in p.stdout


def test_check_yaml_error(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("entries: [\n", encoding="utf-8")
    p = run("check", "--path", str(bad))
    assert p.returncode == 1 and "YAML syntax error" in p.stdout


def test_check_custom_good_file(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("entries:\n  - id: a\n    title: t\n    question: q\n    phrasings: [x]\n"
                    "    answer: ответ\n", encoding="utf-8")
    p = run("check", "--path", str(good))
    assert p.returncode == 0 and p.stdout.strip() == "OK: 1 entries, 0 off-topic kinds"


def test_eval_prints_accuracy():
    p = run("eval")
    assert p.returncode == 0, p.stderr
    assert "tune:" in p.stdout and "test:" in p.stdout and "top-1" in p.stdout
    assert "fresh:" in p.stdout and "dev:" in p.stdout and "holdout:" in p.stdout
    assert "ctx:" in p.stdout and "holdout2:" in p.stdout and "holdout3:" in p.stdout


def test_eval_single_split():
    p = run("eval", "--split", "holdout")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("holdout: answerable top-1 ") and "tune:" not in p.stdout


def test_eval_second_blind_split():
    p = run("eval", "--split", "holdout2")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("holdout2: answerable top-1 ") and "holdout:" not in p.stdout


def test_eval_third_blind_split():
    p = run("eval", "--split", "holdout3")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("holdout3: answerable top-1 ") and "holdout2:" not in p.stdout


def test_calibrate_small_set(tmp_path):
    qs = tmp_path / "q.yaml"
    qs.write_text(
        "- {q: 'что такое смм', id: what_is_smm, split: tune}\n"
        "- {q: 'хватит спамить акциями, как отключить', id: privacy_unsubscribe, split: tune}\n"
        "- {q: 'рецепт борща', id: null, split: tune}\n"
        "- {q: 'сколько стоит ведение', id: pricing, split: test}\n"
        "- {q: 'как поменять колесо', id: null, split: test}\n", encoding="utf-8")
    none = str(tmp_path / "none.yaml")  # no blind split: only the five questions above
    p = run("calibrate", "--questions", str(qs), *(a for split in BLIND_SPLITS for a in (f"--{split}", none)),
            "--min-rejection", "0.9")
    assert p.returncode == 0, p.stderr
    assert "leave-one-split-out" in p.stdout and "pooled" in p.stdout
    assert "fitted on all splits" in p.stdout and "curve along b" in p.stdout
