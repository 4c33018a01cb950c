"""Places in slot text: cities, airports and states as the `airportsdata` package (MIT) knows them —
the source of the built-in gazetteers — with their IATA codes and countries; and the canonical
value of any list's entry ("NYC" -> "New York City" for a list line `New York City | NYC`).

Texts are matched as the gazetteers match them (slotfill.features.gazetteer.form_words: case,
accents, periods and apostrophes folded).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from slotfill.features.gazetteer import GazetteerSet, form_words
from slotfill.features.gazetteer_sources import STATE_COUNTRIES, airport_forms, airports
from slotfill.values.kinds import Value

Airport = dict[str, Any]
# the two-letter postal codes of US states (and DC, territories) and Canadian provinces: "tx", "ma", "bc"
POSTAL_CODES = {
    "US": "AL Alabama AK Alaska AZ Arizona AR Arkansas CA California CO Colorado CT Connecticut DE Delaware "
    "DC District_of_Columbia FL Florida GA Georgia HI Hawaii ID Idaho IL Illinois IN Indiana IA Iowa KS Kansas "
    "KY Kentucky LA Louisiana ME Maine MD Maryland MA Massachusetts MI Michigan MN Minnesota MS Mississippi "
    "MO Missouri MT Montana NE Nebraska NV Nevada NH New_Hampshire NJ New_Jersey NM New_Mexico NY New_York "
    "NC North_Carolina ND North_Dakota OH Ohio OK Oklahoma OR Oregon PA Pennsylvania RI Rhode_Island "
    "SC South_Carolina SD South_Dakota TN Tennessee TX Texas UT Utah VT Vermont VA Virginia WA Washington "
    "WV West_Virginia WI Wisconsin WY Wyoming PR Puerto_Rico GU Guam VI U.S._Virgin_Islands",
    "CA": "AB Alberta BC British_Columbia MB Manitoba NB New_Brunswick NL Newfoundland_and_Labrador "
    "NS Nova_Scotia NT Northwest_Territories NU Nunavut ON Ontario PE Prince_Edward_Island QC Quebec "
    "SK Saskatchewan YT Yukon",
}


class Places:
    """Indexes over airportsdata, built on first use (its 7,900 airports load in about 0.15 s)."""

    @cached_property
    def airports(self) -> tuple[Airport, ...]:
        return tuple(a for a in airports() if a["iata"])

    @cached_property
    def by_city(self) -> dict[tuple[str, ...], list[Airport]]:
        """Airports by the city they serve. A city written "Taipei City" or "Dallas-Fort Worth" also
        counts as "Taipei", "Dallas" and "Fort Worth" where those are cities of the same country
        (so "Kansas City" is never "Kansas", nor "Mexico City" the Mexico in Missouri)."""
        index: dict[tuple[str, ...], list[Airport]] = defaultdict(list)
        for airport in self.airports:
            if key := form_words(airport["city"].strip()):
                index[key].append(airport)
        countries = {key: {a["country"] for a in airports} for key, airports in index.items()}
        for airport in self.airports:
            city = airport["city"].strip()
            parts = [city.removesuffix(" City")] if city.endswith(" City") else re.split(r"\s*[-/]\s*", city)
            for part in parts if len(parts) > 1 or parts[0] != city else ():
                key = form_words(part)
                if key and airport["country"] in countries.get(key, ()) and airport not in index[key]:
                    index[key].append(airport)
        return dict(index)

    @cached_property
    def by_code(self) -> dict[str, Airport]:
        return {airport["iata"].lower(): airport for airport in self.airports}

    @cached_property
    def by_airport_form(self) -> dict[tuple[str, ...], list[Airport]]:
        index: dict[tuple[str, ...], list[Airport]] = defaultdict(list)
        for airport in self.airports:
            for form in airport_forms(airport["name"].strip(), airport["city"].strip()):
                key = form_words(form)
                for variant in {key, ("".join(key),)}:  # "Laguardia" is also "la guardia"
                    if airport not in index[variant]:
                        index[variant].append(airport)
        return dict(index)

    @cached_property
    def states(self) -> dict[tuple[str, ...], tuple[str, str]]:
        found = {}
        for airport in self.airports:
            if airport["country"] in STATE_COUNTRIES and (key := form_words(airport["subd"].strip())):
                found.setdefault(key, (airport["subd"].strip(), airport["country"]))
        return found

    def city(self, name: str) -> Value | None:
        """{"kind": "city", "name", "country" (null when the name is a city in several), "codes"};
        "portland oregon" is Portland kept to Oregon's airports."""
        key = form_words(name)
        if key and key[-1].endswith("s") and key not in self.by_city and (*key[:-1], key[-1][:-1]) in self.by_city:
            key = (*key[:-1], key[-1][:-1])  # "new york's" (folded: "new yorks")
        if key not in self.by_city and key[-1:] == ("city",) and key[:-1] in self.by_city:
            key = key[:-1]  # "New York City": New York
        elif key not in self.by_city and key not in self.states and (*key, "city") in self.by_city:
            key = (*key, "city")  # "salt lake": Salt Lake City
        airports = self.by_city.get(key)
        if airports:
            named = [a for a in airports if form_words(a["city"].strip()) == key] or airports
            return city_value(named[0]["city"].strip(), airports)
        for cut in range(len(key) - 1, 0, -1):  # "portland oregon", "dallas texas"
            state = self.states.get(key[cut:])
            city = self.by_city.get(key[:cut])
            if state and city:
                inside = in_state(city, key[cut:])
                if inside:
                    return city_value(inside[0]["city"].strip(), inside)
        return None

    def airport(self, text: str) -> Value | None:
        """An airport by its IATA code ("MKE") or a name people use ("General Mitchell", "O'Hare")."""
        key = form_words(text)
        code = self.by_code.get(key[0]) if len(key) == 1 and len(key[0]) == 3 else None
        if code is not None:
            return airport_value(code)
        airports = self.by_airport_form.get(key) or self.by_airport_form.get(("".join(key),), [])
        return airport_value(airports[0]) if len(airports) == 1 else None

    @cached_property
    def postal_codes(self) -> dict[str, tuple[str, str]]:
        found = {}
        for country, table in POSTAL_CODES.items():
            pairs = table.split()
            for code, name in zip(pairs[::2], pairs[1::2]):
                found.setdefault(code.lower(), (name.replace("_", " "), country))  # "CA": California, not Canada's
        return found

    def state(self, text: str) -> Value | None:
        """A US state or Canadian province by name ("texas") or postal code ("TX", "ma")."""
        key = form_words(text)
        found = self.states.get(key) or (self.postal_codes.get(key[0]) if len(key) == 1 and len(key[0]) == 2 else None)
        return None if found is None else {"kind": "state", "name": found[0], "country": found[1]}


def city_value(name: str, airports: Sequence[Airport]) -> Value:
    countries = {a["country"] for a in airports}
    country = countries.pop() if len(countries) == 1 else None
    return {"kind": "city", "name": name, "country": country, "codes": sorted({a["iata"] for a in airports})}


def airport_value(airport: Airport) -> Value:
    return {
        "kind": "airport",
        "name": airport["name"].strip(),
        "code": airport["iata"],
        "city": airport["city"].strip() or None,
        "country": airport["country"],
    }


def in_state(candidates: Sequence[Airport], state: tuple[str, ...]) -> list[Airport]:
    """The airports whose subdivision is `state` (folded words)."""
    return [a for a in candidates if form_words(a["subd"].strip()) == state]


def narrowed_city(places: Places, city: Value, state: Value) -> Value:
    """A city value kept to the airports in `state` ("portland" + "oregon": PDX, not PWM)."""
    inside = in_state(places.by_city.get(form_words(city["name"]), []), form_words(state["name"]))
    return city_value(city["name"], inside) if inside else city


def list_entry(gazetteers: GazetteerSet, names: Sequence[str], text: str) -> tuple[str, str] | None:
    """(list, canonical value) of the first of the lists `names` that holds `text` as a form."""
    for name in names:
        if name in gazetteers.names and (canonical := gazetteers.canonical(name, text)) is not None:
            return name, canonical
    return None
