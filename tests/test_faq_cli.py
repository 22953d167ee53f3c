"""CLI contract: python -m faq ask/check/train/eval/explain (run as subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "faq", *args], input=stdin, capture_output=True,
                          text=True, encoding="utf-8", cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    d = tmp_path_factory.mktemp("faq-cli")
    p = run("train", "--dir", str(d))
    assert p.returncode == 0, p.stderr
    assert "leave one split out, all splits: answerable top-1" in p.stdout and "saved" in p.stdout
    assert "(near-)verbatim in the training data" in p.stdout and len(list(d.glob("faq-model-*.npz"))) == 1
    return str(d)


def rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_ask_json(model_dir):
    p = run("ask", "--dir", model_dir, "--json", "сколько стоят ваши услуги", "какая погода завтра", "привет", "ъъъ")
    assert p.returncode == 0, p.stderr
    a, b, c, d = rows(p.stdout)
    assert d == {"query": "ъъъ", "id": None, "score": None, "answer": None, "suggestions": [], "intent": None}
    assert set(a) == {"query", "id", "score", "answer", "suggestions", "intent"}
    assert a["id"] == "pricing" and "/brief" in a["answer"] and a["intent"] is None and len(a["suggestions"]) == 3
    assert b["id"] is None and b["answer"] is None and b["intent"] is None and b["suggestions"] == []
    assert c["id"] is None and c["intent"] == "greeting" and isinstance(c["score"], float)
    assert "сколько стоят" in p.stdout  # ensure_ascii=False


def test_ask_stdin_keeps_order(model_dir):
    qs = ["what is smm", "как отозвать согласие", "рецепт борща", "skolko zhdat rezultata", "спасибо"]
    p = run("ask", "--dir", model_dir, "--json", stdin="\n".join(qs) + "\n\n")
    assert p.returncode == 0, p.stderr
    got = rows(p.stdout)
    assert [r["query"] for r in got] == qs
    want = ["what_is_smm", "privacy_withdraw", None, "time_to_results", "thanks"]
    assert [r["id"] or r["intent"] for r in got] == want


def test_ask_readable(model_dir):
    p = run("ask", "--dir", model_dir, "как отписаться от рассылки", "погода", "ты бот?")
    assert p.returncode == 0
    assert "/unsubscribe" in p.stdout and "no exact answer" in p.stdout and "intent: bot" in p.stdout


def test_explain(model_dir):
    p = run("explain", "--dir", model_dir, "skolko stoit vedenie gruppy")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("decision: answer pricing")
    assert lines[1].startswith("pricing: +") and len([ln for ln in lines if not ln.startswith(" ")]) == 4
    assert "'~веден'" in p.stdout and "' веде'" in p.stdout  # stems and n-grams are named


def test_eval(model_dir):
    p = run("eval", "--dir", model_dir)
    assert p.returncode == 0, p.stderr
    for split in ("tune:", "test:", "fresh:", "dev:", "ctx:", "holdout:", "holdout21:"):
        assert split in p.stdout
    assert "leave one split out, blind splits" in p.stdout and "leaked questions left out" in p.stdout


def test_check_ok():
    p = run("check")
    assert p.returncode == 0 and p.stdout.startswith("OK: 31 entries") and "6 intents" in p.stdout


def test_check_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("entries:\n  - id: Bad Id\n    title: t\n    question: q\n    phrasings: [x]\n"
                   "    answer: ''\n", encoding="utf-8")
    p = run("check", "--path", str(bad))
    assert p.returncode == 1
    assert f"{bad}:2: entry 'Bad Id': bad id" in p.stderr and f"{bad}:6: entry 'Bad Id': empty answer" in p.stderr


def test_check_reports_an_example_in_two_classes(tmp_path):
    good = tmp_path / "corpus.yaml"
    good.write_text("entries:\n  - id: a\n    title: t\n    question: q\n    phrasings: [один вопрос]\n"
                    "    answer: ответ\n", encoding="utf-8")
    (tmp_path / "offtopic.yaml").write_text("topics:\n- id: x\n  title: X\n  phrasings:\n  - Один вопрос?\n",
                                            encoding="utf-8")
    p = run("check", "--path", str(good))
    assert p.returncode == 1
    assert p.stderr.strip() == (f"{tmp_path / 'offtopic.yaml'}:5: example 'один вопрос' stands in two classes: "
                                "'~' and 'a' (line 5)")


def test_check_yaml_error_and_additions(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("entries: [\n", encoding="utf-8")
    p = run("check", "--path", str(broken))
    assert p.returncode == 1 and f"{broken}:2: YAML syntax error" in p.stderr
    additions = tmp_path / "add.yaml"
    additions.write_text("entries:\n  pricing: [почём ваша работа в месяц]\nintents:\n  greeting: [салам]\n"
                         "offtopic: [где купить дрова]\n", encoding="utf-8")
    p = run("check", "--additions", str(additions))
    assert p.returncode == 0, p.stderr
