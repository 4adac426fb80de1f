"""How well inbound mail is classified: `python -m bench.inbound_corpus [--sisimai SET FACT]`.

Runs the classifier over the labelled files of tests/data/inbound/ (the table
in its README.md) and prints, per class, precision and recall, and the number
of automatic messages taken for a human reply (issue 16: must be 0).

`--sisimai SET FACT` adds the whole sisimai corpus: SET is a checkout of
sisimai/set-of-emails, FACT the `fact/` folder of sisimai/go-sisimai (its test
tables give each file's expected reason; labelled as tests/data/inbound/README.md
says). Asserts nothing; CI runs the committed corpus in tests/test_inbound_corpus.py.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from runtime.channels.email.inbound.classify import KINDS, classify_message

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "inbound"
HUMAN = {"reply", "unsubscribe"}  # classes a person writes; every other label is automatic mail


def load_labels(folder: Path = CORPUS) -> dict[Path, str]:
    """file → label, from the README table of `folder`."""
    labels = {}
    for line in (folder / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].endswith(".eml"):
            labels[folder / cells[0]] = cells[1]
    return labels


def sisimai_labels(set_dir: Path, fact_dir: Path) -> dict[Path, str]:
    labels = {}
    row = re.compile(r'\{\{"(\d+)",\s*\d+,\s*"[^"]*",\s*"[^"]*",\s*"([^"]*)"')
    for test in sorted(fact_dir.glob("*_test.go")):
        prefix = re.sub(r"^\d+-", "", test.name).removesuffix("_test.go")
        public = re.search(r"publiclist := \[\]\[\]IsExpected\{(.*?)\}; EngineTest", test.read_text(), re.S)
        if not public:
            continue
        reasons: dict[str, set[str]] = {}
        for label, reason in row.findall(public.group(1)):
            reasons.setdefault(label, set()).add(reason)
        for label, found in reasons.items():
            path = set_dir / "maildir" / "bsd" / f"{prefix}-{label}.eml"
            if path.exists():
                labels[path] = _sisimai_class(path.name, found, path.read_bytes())
    for path in sorted((set_dir / "maildir" / "not").glob("is-not-bounce-*.eml")):
        labels[path] = "other"
    return labels


# Delay warnings sisimai files as soft bounces (reason "expired"); each read by
# hand: "Delivery Status Notification (Delay)" / "THIS IS A WARNING MESSAGE ONLY",
# Exim's "Warning: message … delayed 24 hours", OpenSMTPD's "delayed for more
# than 10 minutes", Zoho's "(Delay)". A delay never finishes a lead.
HAND_CHECKED_DELAYS = {"lhost-exim-38.eml", "lhost-exim-41.eml", "lhost-gmail-06.eml", "lhost-gmail-08.eml",
                       "lhost-gmail-09.eml", "lhost-gmail-17.eml", "lhost-opensmtpd-04.eml", "lhost-zoho-04.eml"}


def _sisimai_class(name: str, reasons: set[str], raw: bytes) -> str:
    if reasons == {"vacation"}:
        return "auto_reply"
    if reasons == {"feedback"}:
        return "complaint"
    if reasons == {"delivered"}:
        return "other"
    actions = re.findall(rb"(?im)^action:\s*(\w+)", raw)
    if (actions and all(a.lower() == b"delayed" for a in actions)) or name in HAND_CHECKED_DELAYS:
        return "delay"
    return "bounce"


def classify_all(labels: dict[Path, str]) -> list[tuple[Path, str, str]]:
    return [(path, label, classify_message(path.read_bytes()).kind) for path, label in labels.items()]


def score(results: list[tuple[Path, str, str]]) -> dict:
    """Per class precision/recall, and automatic mail taken for a human reply."""
    per_class = {}
    for kind in KINDS:
        tp = sum(1 for _, label, got in results if label == kind and got == kind)
        predicted = sum(1 for _, _, got in results if got == kind)
        actual = sum(1 for _, label, _ in results if label == kind)
        if predicted or actual:
            per_class[kind] = {"n": actual, "precision": tp / predicted if predicted else None,
                               "recall": tp / actual if actual else None}
    auto_as_human = [p.name for p, label, got in results if label not in HUMAN and got == "reply"]
    wrong = [(p.name, label, got) for p, label, got in results if label != got]
    return {"files": len(results), "correct": len(results) - len(wrong), "per_class": per_class,
            "automatic_as_reply": auto_as_human, "wrong": wrong}


def _print(title: str, figures: dict) -> None:
    print(f"{title}: {figures['correct']}/{figures['files']} right; "
          f"automatic mail taken for a human reply: {len(figures['automatic_as_reply'])}")
    print(f"  {'class':<12} {'n':>4} {'precision':>9} {'recall':>7}")
    for kind, f in figures["per_class"].items():
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"  {kind:<12} {f['n']:>4} {fmt(f['precision']):>9} {fmt(f['recall']):>7}")
    for name, label, got in figures["wrong"]:
        print(f"  wrong: {name}: labelled {label}, classified {got}")
    print(f"  confusion: {dict(Counter((label, got) for _, label, got in figures['wrong']))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sisimai", nargs=2, metavar=("SET", "FACT"), type=Path)
    args = parser.parse_args()
    _print("tests/data/inbound", score(classify_all(load_labels())))
    if args.sisimai:
        _print("sisimai (all public files)", score(classify_all(sisimai_labels(*args.sisimai))))


if __name__ == "__main__":
    main()
