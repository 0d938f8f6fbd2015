"""A strict reader of Prometheus's text exposition format (0.0.4), for tests.

Written here rather than taken from a package (the service may depend on none): every sample
belongs to a family announced by HELP and TYPE, names and escapes are checked, histogram
buckets are cumulative and end with +Inf, which equals the count.
"""

import re

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
VALUE = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN"
SAMPLE = re.compile(rf"(?P<name>{NAME.pattern})(?:\{{(?P<labels>.*)\}})? (?P<value>{VALUE})")
LABEL = re.compile(r'(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)="(?P<value>(?:[^"\\\n]|\\[\\"n])*)"(?:,|$)')
HELP = re.compile(r"(?:[^\\\n]|\\[\\n])*")
ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
SUFFIXES = {"counter": [""], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"]}


def unescape(text: str) -> str:
    return re.sub(r'\\[\\"n]', lambda escape: ESCAPES[escape[0]], text)


def parse(text: str) -> dict[str, dict]:
    """Read the text format strictly: {family: {"help", "type", "samples": {(name, labels): v}}}."""
    assert text.endswith("\n")
    families: dict[str, dict] = {}
    family: dict = {}
    for line in text.removesuffix("\n").split("\n"):
        if line.startswith("# HELP "):
            name, help = line.removeprefix("# HELP ").split(" ", 1)
            assert NAME.fullmatch(name) and name not in families, f"bad or repeated: {line}"
            assert HELP.fullmatch(help), line
            family = families[name] = {"name": name, "help": unescape(help), "samples": {}}
        elif line.startswith("# TYPE "):
            name, kind = line.removeprefix("# TYPE ").split(" ")
            assert name == family.get("name") and "type" not in family, f"no HELP: {line}"
            assert kind in SUFFIXES, line
            family["type"] = kind
        else:
            sample = SAMPLE.fullmatch(line)
            assert sample, f"malformed sample: {line}"
            assert "type" in family, f"a sample before its family's HELP and TYPE: {line}"
            names = [family["name"] + suffix for suffix in SUFFIXES[family["type"]]]
            assert sample["name"] in names, f"outside its family: {line}"
            key = (sample["name"], parse_labels(sample["labels"] or ""))
            assert key not in family["samples"], f"duplicate series: {line}"
            family["samples"][key] = float(sample["value"])
    for family in families.values():
        if family["type"] == "histogram":
            check_buckets(family)
    return families


def parse_labels(text: str) -> frozenset[tuple[str, str]]:
    pairs, position = [], 0
    while position < len(text):
        label = LABEL.match(text, position)
        assert label, f"bad labels: {text}"
        pairs.append((label["name"], unescape(label["value"])))
        position = label.end()
    assert len(dict(pairs)) == len(pairs), f"repeated label: {text}"
    return frozenset(pairs)


def check_buckets(family: dict) -> None:
    """Buckets ascend by `le` to +Inf, counts never decrease, and +Inf is the count."""
    series: dict[frozenset, list[tuple[str, float]]] = {}
    for (name, labels), count in family["samples"].items():
        if name.endswith("_bucket"):
            le = dict(labels)["le"]
            series.setdefault(labels - {("le", le)}, []).append((le, count))
    assert series, f"{family['name']} has no buckets"
    for labels, buckets in series.items():
        bounds = [float(le) for le, _ in buckets]
        counts = [count for _, count in buckets]
        assert bounds == sorted(set(bounds)) and buckets[-1][0] == "+Inf"
        assert counts == sorted(counts)
        assert family["samples"][(family["name"] + "_count", labels)] == counts[-1]
        assert (family["name"] + "_sum", labels) in family["samples"]


def read_samples(text: bytes) -> dict[tuple[str, frozenset], float]:
    families = parse(text.decode())
    return {key: value for family in families.values() for key, value in family["samples"].items()}


def at(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def per_worker(samples: dict, name: str) -> dict[str, float]:
    return {dict(labels)["worker"]: value for (n, labels), value in samples.items() if n == name}


def held_requests(text: bytes) -> float:
    """Watch requests the service holds now, over every worker the scrape covers."""
    samples = read_samples(text)
    return sum(
        value
        for (name, _), value in samples.items()
        if name == "config_service_watch_held_requests"
    )
