#!/usr/bin/env python3
"""Fetches a Prometheus endpoint and checks the text format (0.0.4) strictly.

    scrape_metrics.py URL             prints one NAME{LABELS}=VALUE line per sample
    scrape_metrics.py --status URL    prints the HTTP status code only (any path, any status)

Checked: the status is 200 and the Content-Type is text/plain; version=0.0.4; every family
has exactly one "# HELP" then one "# TYPE" (counter or gauge) before its samples, and its
samples follow it without another family in between; names and label names follow the
Prometheus grammar, label values are quoted with only \\\\, \\" and \\n escapes, no label
twice in a sample, no series twice; values are numbers (NaN, +Inf, -Inf allowed), counters
are named *_total and never negative. Any violation: a message on stderr and exit status 1.
Labels are printed in the order the endpoint wrote them; integral values without a fraction.
"""
import math
import re
import sys
import urllib.error
import urllib.request

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
SPECIAL_VALUES = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}


class FormatError(Exception):
    pass


def parse_labels(text, lineno):
    """Parses 'a="x",b="y"' (the text between the braces) into a list of (name, value)."""
    labels = []
    i = 0
    while i < len(text):
        eq = text.find("=", i)
        if eq < 0:
            raise FormatError(f"line {lineno}: label without '='")
        name = text[i:eq]
        if not LABEL_NAME.match(name) or name.startswith("__"):
            raise FormatError(f"line {lineno}: bad label name {name!r}")
        if eq + 1 >= len(text) or text[eq + 1] != '"':
            raise FormatError(f"line {lineno}: label {name} value is not quoted")
        j = eq + 2
        value = []
        while True:
            if j >= len(text):
                raise FormatError(f"line {lineno}: label {name} value not terminated")
            c = text[j]
            if c == "\\":
                if j + 1 >= len(text) or text[j + 1] not in '\\"n':
                    raise FormatError(f"line {lineno}: bad escape in label {name}")
                value.append("\n" if text[j + 1] == "n" else text[j + 1])
                j += 2
            elif c == '"':
                j += 1
                break
            elif c == "\n":
                raise FormatError(f"line {lineno}: raw newline in label {name}")
            else:
                value.append(c)
                j += 1
        if any(n == name for n, _ in labels):
            raise FormatError(f"line {lineno}: label {name} given twice")
        labels.append((name, "".join(value)))
        if j == len(text):
            break
        if text[j] != ",":
            raise FormatError(f"line {lineno}: expected ',' after label {name}")
        i = j + 1
    return labels


def valid_help_escapes(text):
    """HELP text may escape only backslash and newline."""
    i = 0
    while i < len(text):
        if text[i] == "\\":
            if i + 1 >= len(text) or text[i + 1] not in "\\n":
                return False
            i += 2
        else:
            i += 1
    return True


def parse_value(text, lineno):
    if text in SPECIAL_VALUES:
        return SPECIAL_VALUES[text]
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"line {lineno}: bad value {text!r}") from None


def split_sample(line, lineno):
    """'name{labels} value' -> (name, labels, value); no timestamps are expected."""
    brace = line.find("{")
    space = line.find(" ")
    if brace >= 0 and (space < 0 or brace < space):
        close = line.rfind("}")
        if close < brace:
            raise FormatError(f"line {lineno}: unclosed label set")
        name, labels = line[:brace], parse_labels(line[brace + 1:close], lineno)
        rest = line[close + 1:]
    else:
        if space < 0:
            raise FormatError(f"line {lineno}: sample without a value")
        name, labels, rest = line[:space], [], line[space:]
    if not rest.startswith(" ") or rest[1:].strip() != rest[1:] or " " in rest[1:]:
        raise FormatError(f"line {lineno}: expected exactly one space then the value")
    if not METRIC_NAME.match(name):
        raise FormatError(f"line {lineno}: bad metric name {name!r}")
    return name, labels, parse_value(rest[1:], lineno)


def parse_exposition(text):
    """Returns [(name, labels, value)] after checking the whole text."""
    if text and not text.endswith("\n"):
        raise FormatError("the text does not end with a newline")
    families = {}  # name -> {"help": bool, "type": str or None}
    current = None
    series = set()
    samples = []
    for lineno, line in enumerate(text.split("\n")[:-1], start=1):
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, rest = line[2:6], line[7:]
            name, _, arg = rest.partition(" ")
            if not METRIC_NAME.match(name):
                raise FormatError(f"line {lineno}: bad metric name {name!r}")
            fam = families.setdefault(name, {"help": False, "type": None, "samples": 0})
            if kind == "HELP":
                if fam["help"] or fam["type"] or fam["samples"]:
                    raise FormatError(f"line {lineno}: HELP for {name} is not the family's first line")
                if not arg:
                    raise FormatError(f"line {lineno}: empty HELP for {name}")
                if not valid_help_escapes(arg):
                    raise FormatError(f"line {lineno}: bad escape in HELP for {name}")
                fam["help"] = True
            else:
                if not fam["help"] or fam["type"]:
                    raise FormatError(f"line {lineno}: TYPE for {name} must follow its one HELP")
                if arg not in ("counter", "gauge"):
                    raise FormatError(f"line {lineno}: unexpected type {arg!r} for {name}")
                if arg == "counter" and not name.endswith("_total"):
                    raise FormatError(f"line {lineno}: counter {name} is not named *_total")
                fam["type"] = arg
            current = name
            continue
        if line.startswith("#") or not line.strip():
            raise FormatError(f"line {lineno}: unexpected line {line!r}")
        name, labels, value = split_sample(line, lineno)
        if name != current or families[name]["type"] is None:
            raise FormatError(f"line {lineno}: sample of {name} outside its family's block")
        if families[name]["type"] == "counter" and not value >= 0:
            raise FormatError(f"line {lineno}: counter {name} is {value}")
        key = (name, tuple(sorted(labels)))
        if key in series:
            raise FormatError(f"line {lineno}: series {name}{labels} given twice")
        series.add(key)
        families[name]["samples"] += 1
        samples.append((name, labels, value))
    for name, fam in families.items():
        if fam["type"] is None:
            raise FormatError(f"family {name} has HELP but no TYPE")
    return samples


def format_value(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value == int(value) else repr(value)


def main(argv):
    if len(argv) == 3 and argv[1] == "--status":
        try:
            with urllib.request.urlopen(argv[2], timeout=10) as response:
                print(response.status)
        except urllib.error.HTTPError as e:
            print(e.code)
        return 0
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with urllib.request.urlopen(argv[1], timeout=10) as response:
            if response.status != 200:
                raise FormatError(f"HTTP status {response.status}")
            ctype = response.headers.get("Content-Type", "")
            if not ctype.startswith("text/plain; version=0.0.4"):
                raise FormatError(f"Content-Type {ctype!r} is not the Prometheus text format 0.0.4")
            text = response.read().decode("utf-8")
        for name, labels, value in parse_exposition(text):
            label_text = ",".join(f'{k}="{v}"' for k, v in labels)
            print(f"{name}{{{label_text}}}={format_value(value)}" if labels else f"{name}={format_value(value)}")
    except (FormatError, urllib.error.URLError, UnicodeDecodeError, OSError) as e:
        print(f"scrape_metrics: {argv[1]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
