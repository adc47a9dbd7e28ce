"""Quantities in text: numbers with the unit written after them, units by dimension, and pairs of like
quantities. Shared by generation (the material of a computed question), grounding (a derivation's units)
and grading (a numeric reply in another unit)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# alias -> (dimension, factor to the dimension's base unit)
_UNIT_TABLE: dict[str, tuple[str, float]] = {}


def _units(dim: str, base_factor: dict[float, list[str]]) -> None:
    for factor, aliases in base_factor.items():
        for a in aliases:
            _UNIT_TABLE[a] = (dim, factor)


_units("length", {1e-3: ["mm", "millimeter", "millimeters", "millimetre", "millimetres"],
                  1e-2: ["cm", "centimeter", "centimeters", "centimetre", "centimetres"],
                  1.0: ["m", "meter", "meters", "metre", "metres"],
                  1e3: ["km", "kilometer", "kilometers", "kilometre", "kilometres"],
                  0.3048: ["ft", "foot", "feet"], 0.0254: ["inch", "inches"],
                  1609.344: ["mi", "mile", "miles"], 1852.0: ["nmi", "nautical mile", "nautical miles"]})
_units("time", {1e-6: ["us", "µs", "microsecond", "microseconds"], 1e-3: ["ms", "millisecond", "milliseconds"],
                1.0: ["s", "sec", "secs", "second", "seconds"], 60.0: ["min", "mins", "minute", "minutes"],
                3600.0: ["h", "hr", "hrs", "hour", "hours"], 86400.0: ["d", "day", "days"],
                604800.0: ["wk", "week", "weeks"], 31557600.0: ["yr", "year", "years"]})
_units("mass", {1e-3: ["g", "gram", "grams"], 1e-6: ["mg", "milligram", "milligrams"],
                1.0: ["kg", "kilogram", "kilograms"], 1e3: ["tonne", "tonnes"]})
_units("data", {1.0: ["b", "byte", "bytes"], 1e3: ["kb", "kilobyte", "kilobytes"], 1e6: ["mb", "megabyte", "megabytes"],
                1e9: ["gb", "gigabyte", "gigabytes"], 1e12: ["tb", "terabyte", "terabytes"],
                1024.0: ["kib"], 1024.0 ** 2: ["mib"], 1024.0 ** 3: ["gib"], 1024.0 ** 4: ["tib"]})
_units("frequency", {1.0: ["hz", "hertz"], 1e3: ["khz"], 1e6: ["mhz"], 1e9: ["ghz"]})
_units("power", {1.0: ["w", "watt", "watts"], 1e-3: ["mw", "milliwatt", "milliwatts"],
                 1e3: ["kw", "kilowatt", "kilowatts"]})
_units("voltage", {1.0: ["v", "volt", "volts"], 1e-3: ["mv", "millivolt", "millivolts"]})
_units("current", {1.0: ["amp", "amps", "ampere", "amperes"], 1e-3: ["ma", "milliamp", "milliamps"]})
_units("energy", {1.0: ["wh", "watt-hour", "watt-hours"], 1e3: ["kwh", "kilowatt-hour", "kilowatt-hours"]})
_units("charge", {1.0: ["ah", "ampere-hour", "ampere-hours", "amp-hour", "amp-hours"], 1e-3: ["mah"]})
_units("speed", {1.0: ["m/s", "metre per second", "metres per second", "meter per second", "meters per second"],
                 1 / 3.6: ["km/h", "kph", "kilometre per hour", "kilometres per hour", "kilometers per hour"],
                 1852 / 3600: ["kn", "knot", "knots"]})
_units("volume", {1e-3: ["ml", "millilitre", "millilitres", "milliliter", "milliliters"],
                  1.0: ["l", "litre", "litres", "liter", "liters"]})
_units("percent", {1.0: ["%", "percent", "per cent", "pct"]})
_units("pressure", {1.0: ["pa"], 1e3: ["kpa"], 1e5: ["bar"], 1e2: ["mbar", "hpa"]})
_units("temperature_c", {1.0: ["°c", "degc", "celsius", "degrees celsius"]})

_NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|(?<![\w.])[-−]?\.\d+")
_WORD_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}


def unit_info(unit: str) -> tuple[str, float] | None:
    u = " ".join(unit.lower().replace("per cent", "percent").split()).rstrip(".")
    return _UNIT_TABLE.get(u) or (_UNIT_TABLE.get(u[:-1]) if u.endswith("s") else None)


@dataclass
class Quantity:
    value: float
    unit: str  # as written after the number ("" when none)


def parse_quantities(text: str) -> list[Quantity]:
    """Every number in `text` with the unit written right after it (if any)."""
    out = []
    for m in _NUMBER.finditer(text):
        raw = m.group(0).replace(",", "").replace("−", "-")
        try:
            value = float(raw)
        except ValueError:
            continue
        tail = text[m.end():m.end() + 24]
        um = re.match(r"\s?(%|°\s?[cCfF]|[A-Za-zµ]+(?:-[A-Za-z]+)?(?:/[A-Za-z]+)?"
                      r"(?:\s(?:per\s[a-z]+|mile|miles|celsius|c))?)", tail)
        unit = ""
        if um:
            cand = um.group(1).replace("° ", "°")
            # the longest prefix of the words after the number that is a known unit
            words = cand.split()
            for k in range(len(words), 0, -1):
                if unit_info(" ".join(words[:k])):
                    unit = " ".join(words[:k])
                    break
        out.append(Quantity(value, unit))
    if not out:
        low = text.lower()
        for m in re.finditer(r"[a-z]+", low):
            if m.group() in _WORD_NUMBERS:
                after = re.match(r"\s([a-zµ]+)", low[m.end():m.end() + 16])
                unit = after.group(1) if after and unit_info(after.group(1)) else ""
                out.append(Quantity(float(_WORD_NUMBERS[m.group()]), unit))
                break
    return out


# a quantity's measure: (dimension, factor to the dimension's base unit); None for a plain count or a
# unit not known; ("factor", c) for a unit factor (a free constant the text does not hold)
Measure = tuple[str, float] | None
_CURRENCY_CODE = r"(?:NOK|SEK|DKK|EUR|USD|GBP|CAD|AUD|CHF|JPY|[$€£])"
_CURRENCY = re.compile(rf"(?<![A-Za-z])({_CURRENCY_CODE})\s?(?=[-−]?\d)")


def measure_of(unit: str) -> Measure:
    u = unit.strip()
    if re.fullmatch(_CURRENCY_CODE, u):
        return (f"money {u.upper()}", 1.0)
    info = unit_info(u) if u else None
    if info is None:
        return None
    dim, factor = info
    return ("ratio", factor / 100) if dim == "percent" else (dim, factor)


def cited_measures(cited: str) -> dict[float, Measure]:
    out: dict[float, Measure] = {}
    for x in parse_quantities(cited):
        out.setdefault(round(x.value, 9), measure_of(x.unit))
    for m in re.finditer(r"(?<![\d:])([01]?\d|2[0-3]):[0-5]\d(?![\d:])", cited):  # a clock time: its hour
        out[round(float(m.group(1)), 9)] = ("time", 3600.0)
    for m in _CURRENCY.finditer(cited):
        after = parse_quantities(cited[m.end():m.end() + 24])
        if after:
            out[round(after[0].value, 9)] = (f"money {m.group(1).upper()}", 1.0)
    return out


def like_quantities(text: str, limit: int = 6) -> list[tuple[str, str]]:
    """Pairs of different numbers of the same measure (same unit or currency) in `text`, as
    written ("520 millimetres", "1,620 millimetres"): the material of a computed question.
    Pairs are taken from each measure in turn, so one long list does not crowd out the rest."""
    seen: dict[Measure, dict[float, str]] = {}
    pattern = rf"(?P<cur>{_CURRENCY_CODE}\s?)?(?P<num>[-−]?\d(?:[\d,]*\d)?(?:\.\d+)?)"
    for m in re.finditer(pattern, text):
        found = parse_quantities(text[m.start("num"):m.end("num") + 24])
        unit = found[0].unit if found else ""
        written = " ".join(f"{(m.group('cur') or '').strip()} {m.group('num')} {unit}".split())
        measures = cited_measures(written)
        if len(measures) != 1:
            continue
        (value, measure), = measures.items()
        if measure is None:
            continue
        seen.setdefault(measure, {}).setdefault(value, written)
    per_measure = [[(a, b) for i, a in enumerate(g) for b in list(g)[i + 1:]] for g in
                   ([*v.values()] for v in seen.values())]
    pairs = [p for k in range(max(map(len, per_measure), default=0)) for group in per_measure
             if k < len(group) for p in [group[k]]]
    return pairs[:limit]
