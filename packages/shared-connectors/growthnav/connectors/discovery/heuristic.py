"""The offline mapper: column names, synonyms, value patterns and a CLV analyst's rules.

Every suggestion carries a confidence and a reason a person can read. Targets are the
``Conversion`` fields (the plan's 16) and the identity fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from growthnav.connectors.discovery.profiler import ColumnProfile
from growthnav.connectors.discovery.suggestion import MappingSuggestion

#: Vendor decorations stripped before tokenizing (HubSpot, Pardot, Salesforce custom fields).
_PREFIXES = ("hs_", "pi__", "sf_", "c_")
_SUFFIXES = ("__c", "_c")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")
_ABBREVIATIONS = {
    "amt": "amount",
    "qty": "quantity",
    "ts": "timestamp",
    "dt": "date",
    "txn": "transaction",
    "trx": "transaction",
    "tx": "transaction",
    "num": "number",
    "no": "number",
    "cust": "customer",
    "addr": "address",
    "fname": "first name",
    "lname": "last name",
    "firstname": "first name",
    "lastname": "last name",
    "zipcode": "zip",
    "postcode": "postal code",
    "cardfingerprint": "card fingerprint",
    "emailaddress": "email",
    "mobilephone": "mobile phone",
    "phonenumber": "phone number",
    "orderid": "order id",
    "userid": "user id",
    "customerid": "customer id",
    "storeid": "store id",
    "locationid": "location id",
    "createdat": "created at",
    "updatedat": "updated at",
    "closedate": "close date",
    "lineitem": "line item",
    "closing": "close",
    "datetime": "date time",
    "incl": "including",
    "excl": "excluding",
    "inc": "including",
    "ex": "excluding",
    # Meta's names for the customer fields it matches on (fn, ln, zp).
    "fn": "first name",
    "ln": "last name",
    "zp": "zip",
    "#": "number",
    # A customer nested in an API object (customers.elements.0.id) is still the customer.
    "customers": "customer",
    # A GUID or UUID column is an id column (Toast's ORDER_GUID, RESTAURANT_GUID...).
    "guid": "id",
    "uuid": "id",
    "tstamp": "timestamp",
    "mkt": "marketing",
    "dvce": "device",
}


def tokens(column: str) -> list[str]:
    """Lower-case word tokens of a column name (snake, camel, UPPER_SNAKE, spaces, prefixes)."""
    name = column.strip()
    lowered = name.lower()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix) and len(lowered) > len(prefix) + 2:
            name = name[len(prefix) :]
            break
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix) + 2:
            name = name[: -len(suffix)]
            break
    name = name.replace("#", " number ")
    words: list[str] = []
    for part in _SPLIT.split(_CAMEL.sub(" ", name)):
        if part:
            words += _ABBREVIATIONS.get(part.lower(), part.lower()).split()
    return words


@dataclass(frozen=True)
class _Target:
    """What the heuristic knows about one target field."""

    phrases: tuple[tuple[str, float], ...]
    #: Tokens that say the column is something else (tip, tax, employee...).
    against: tuple[str, ...] = ()
    #: Value check: the least share of values that must look right (None: any values).
    kind: str | None = None
    #: Tokens that rule the target out entirely (not even a last resort): a customer's
    #: lifetime spend is never the value of one purchase.
    never: tuple[str, ...] = ()


#: Names of an order-level id: repeated values mean a line-item export, not another key.
_ORDER_LEVEL_IDS = ("order id", "transaction id", "purchase id", "check id", "receipt id")
_ID_AGAINST = ("line", "item", "employee", "server", "owner", "staff", "location", "store")
_TIME_KINDS = "time"
#: Words naming the moment a purchase happened (a receipt's date, when an order was placed),
#: as opposed to when a record was created or changed in some system.
_PURCHASE_EVENTS = ("receipt", "purchased", "ordered", "sold", "sale", "checkout", "placed")
#: The documents a purchase is recorded on: their date is the purchase's date.
_PURCHASE_DOCUMENTS = ("invoice", "check", "ticket", "bill")
_TIME_WORDS = ("date", "time", "at", "timestamp", "datetime", "on")


def _with_time_words(events: tuple[str, ...], weight: float) -> tuple[tuple[str, float], ...]:
    """``closed``, ``closed date``, ``closed at``...: an event named with or without a time word."""
    return tuple((f"{event} {word}", weight) for event in events for word in _TIME_WORDS)


_EVENT_TIMES = (
    *_with_time_words(_PURCHASE_EVENTS, 0.95),
    *_with_time_words(_PURCHASE_DOCUMENTS, 0.9),
    # When the check closed (not when it opened or was paid) is the purchase's moment.
    *_with_time_words(("closed", "close"), 1.0),
)

TARGET_RULES: dict[str, _Target] = {
    "transaction_id": _Target(
        (
            ("order id", 1.0),
            ("transaction id", 1.0),
            ("transaction number", 0.9),
            ("purchase id", 1.0),
            ("check id", 0.95),
            ("receipt id", 0.95),
            ("sale id", 0.95),
            ("invoice id", 0.9),
            ("invoice number", 0.9),
            # A processor's charge is the payment itself (Stripe's ch_..., a billing charge).
            ("charge id", 0.95),
            ("ticket id", 0.9),
            ("payment id", 0.75),
            ("deal id", 0.9),
            ("opportunity id", 0.9),
            ("record id", 0.8),
            ("object id", 0.8),
            ("order number", 0.7),
            ("order", 0.45),
            # A document's bare number ("Num", "No."): a last resort for the key.
            ("number", 0.4),
            # A record's own primary key (an API object's "Id"): over a display number.
            ("id", 0.75),
        ),
        (
            *_ID_AGAINST,
            "customer",
            "user",
            "contact",
            "external",
            "reference",
            "brand",
            "member",
            # A subscription is billed many times: its id keys none of the purchases.
            "subscription",
        ),
        "id",
    ),
    "timestamp": _Target(
        (
            ("closed", 1.0),
            ("purchased at", 1.0),
            ("purchase date", 1.0),
            ("time placed", 1.0),
            ("paid date", 0.95),
            ("paid at", 0.95),
            ("order date", 0.95),
            ("transaction date", 1.0),
            ("transaction time", 1.0),
            ("completed at", 0.95),
            ("business date", 0.7),
            ("timestamp", 0.85),
            ("date", 0.55),
            ("time", 0.5),
            ("created at", 0.6),
            ("create date", 0.55),
            ("created", 0.55),
            ("conversion time", 1.0),
            ("conversion date", 1.0),
            # When a person joined: the moment a list of people records (a signup).
            ("customer since", 0.8),
            ("member since", 0.8),
            ("since", 0.6),
            *_with_time_words(("signup", "sign up", "joined", "join", "enrolled"), 0.8),
            *_with_time_words(("registered", "registration", "enrollment"), 0.8),
            ("signup", 0.7),
            ("sign up", 0.7),
            ("joined", 0.7),
            ("enrolled", 0.7),
            ("registered", 0.7),
            # When an order was processed (placed) and when a document took effect.
            # An online order is closed (archived) once fulfilled: when it was processed is
            # the purchase, and beats when it was closed.
            ("processed at", 1.05),
            *_with_time_words(("submitted", "submit"), 0.9),
            ("processed", 0.95),
            ("effective date", 0.8),
            # A CRM deal's sale is the moment it was won.
            *_with_time_words(("won",), 1.0),
            *_EVENT_TIMES,
        ),
        (
            "opened",
            "open",
            "modified",
            "updated",
            "birth",
            "birthday",
            "activity",
            "due",
            "expected",
            # When the processor settled the day's batch, not when the customer paid.
            "settled",
            "settlement",
            # A device's clock or a collector's arrival time, not when the event happened.
            "device",
            "collector",
        ),
        _TIME_KINDS,
        # A customer's last (or next) visit summarises many purchases: it is none of them.
        never=("last", "next", "visit", "visits"),
    ),
    "value": _Target(
        (
            ("total", 1.0),
            ("settlement amount", 1.0),
            ("amount", 0.85),
            ("net sales", 0.8),
            ("revenue", 0.8),
            ("sales", 0.6),
            ("paid", 0.7),
            ("order total", 1.0),
            ("total amount", 1.0),
            ("amount paid", 1.0),
            ("total excluding tip", 1.1),
            # A total with tax in it is what the customer paid; one without it is not.
            ("total including tax", 1.1),
            ("sales including tax", 1.05),
            # What a payment processor collected from the customer (not its net payout).
            ("total collected", 1.05),
            ("amount collected", 1.05),
            ("collected", 0.9),
            # Gross: what the customer paid, before the processor took its fee.
            ("gross", 0.75),
            ("gross amount", 0.9),
            # A line's price after its discounts is what the customer paid for it.
            ("net price", 0.9),
            ("price", 0.5),
            ("value", 0.6),
        ),
        (
            "tip",
            "tips",
            "tax",
            "taxes",
            "discount",
            "discounts",
            "refunds",
            "subtotal",
            "sub",
            "fee",
            "fees",
            "refund",
            "reward",
            "gratuity",
            "delivery",
            "guests",
            "count",
            "items",
            "credit",
            "base",
            # Owed, not paid.
            "due",
            "remaining",
            "outstanding",
        ),
        "money",
        # Summaries of a customer (lifetime spend, points balance): no purchase's value.
        # What the merchant was paid out is not what the customer paid; "orders" and
        # "transactions" in the plural count purchases.
        never=(
            "spend",
            "spent",
            "visits",
            "lifetime",
            "average",
            "avg",
            "balance",
            "points",
            "rewards",
            "payout",
            "orders",
            "transactions",
            "quantity",
            "purchases",
        ),
    ),
    "currency": _Target(
        (("currency", 1.0), ("currency code", 1.0), ("iso currency", 1.0)),
        # A store's base (accounting) currency, not the one the customer paid in.
        ("base",),
        "currency",
    ),
    "user_id": _Target(
        (
            ("customer id", 1.0),
            ("user id", 1.0),
            ("guest id", 0.95),
            ("contact id", 0.9),
            ("associated contact id", 1.0),
            ("client id", 0.8),
            ("customer code", 0.95),
            ("customer number", 0.95),
            ("account id", 0.6),
            ("customer", 0.5),
            ("user", 0.45),
        ),
        (
            "employee",
            "emp",
            "server",
            "owner",
            "staff",
            "cashier",
            "rep",
            "agent",
            "created",
            "by",
            # The merchant's own reference, not the customer.
            "reference",
        ),
        "key",
    ),
    "quantity": _Target(
        (("quantity", 1.0), ("item count", 0.85), ("items", 0.6), ("units", 0.8)),
        ("guests", "price", "amount"),
        "integer",
    ),
    "product_id": _Target(
        (
            ("product id", 1.0),
            ("item id", 0.9),
            ("sku", 0.9),
            ("menu item id", 1.0),
            ("product code", 0.9),
            ("item code", 0.85),
        ),
        (),
        "key",
    ),
    "product_name": _Target(
        (
            ("product name", 1.0),
            ("item name", 0.9),
            ("menu item", 0.9),
            ("product", 0.6),
            ("item", 0.5),
            ("product title", 0.95),
            ("item title", 0.9),
        ),
        ("id",),
        "text",
    ),
    "product_category": _Target(
        (
            ("category", 0.9),
            ("product category", 1.0),
            ("menu group", 0.85),
            ("sales category", 0.9),
        ),
        ("device", "browser", "platform", "os"),
        "text",
    ),
    "location_id": _Target(
        (
            ("location id", 1.0),
            ("store id", 1.0),
            ("store number", 0.95),
            ("restaurant id", 1.0),
            ("site id", 0.9),
            ("location code", 0.95),
            ("store code", 0.95),
            ("store", 0.55),
            ("location", 0.45),
        ),
        ("name",),
        "key",
    ),
    "location_name": _Target(
        (
            ("location name", 1.0),
            ("store name", 1.0),
            ("restaurant name", 1.0),
            ("site name", 0.9),
            ("location", 0.7),
            ("restaurant", 0.6),
            ("shop", 0.6),
            ("establishment", 0.7),
            ("outlet", 0.7),
            ("venue", 0.7),
            ("branch", 0.6),
            ("store", 0.45),
        ),
        ("id", "number"),
        "text",
    ),
    "gclid": _Target((("gclid", 1.0), ("google click id", 1.0)), (), None),
    "fbclid": _Target((("fbclid", 1.0), ("facebook click id", 1.0)), (), None),
    # Analytics exports name the three after the traffic source: its source, medium and name.
    "utm_source": _Target(
        (
            ("utm source", 1.0),
            ("lead source", 0.75),
            ("campaign source", 0.9),
            ("media source", 0.85),
            ("analytics source", 0.8),
            ("traffic source", 0.8),
            ("original source", 0.85),
            ("marketing source", 0.85),
        ),
        ("name", "campaign"),
        None,
        never=("medium",),
    ),
    "utm_medium": _Target(
        (
            ("utm medium", 1.0),
            ("traffic medium", 0.9),
            ("campaign medium", 0.9),
            ("traffic source medium", 1.0),
            ("medium", 0.7),
        ),
        (),
        None,
        # "Source / Medium" holds both at once ("google / cpc"): it is neither alone.
        never=("source",),
    ),
    "utm_campaign": _Target(
        (
            ("utm campaign", 1.0),
            ("campaign name", 0.8),
            ("traffic source name", 0.9),
            ("campaign", 0.6),
            # Marketing automation names the campaign that won a lead its acquisition program.
            ("acquisition program", 0.8),
            ("acquisition campaign", 0.9),
        ),
        ("id",),
        None,
    ),
    "email": _Target(
        (("email", 1.0), ("e mail", 1.0), ("email address", 1.0), ("mail", 0.6)),
        ("hashed", "hash", "sha256", "md5", "opt", "subscribed", "status", "bounced"),
        "email",
    ),
    "phone": _Target(
        (
            ("phone", 1.0),
            ("phone number", 1.0),
            ("mobile", 0.85),
            ("mobile phone", 0.95),
            ("cell", 0.8),
            ("contact number", 0.95),
            ("telephone", 1.0),
            ("tel", 0.7),
        ),
        ("hashed", "hash", "type", "opt", "country"),
        "phone",
    ),
    "first_name": _Target(
        (("first name", 1.0), ("given name", 1.0), ("first", 0.6), ("forename", 1.0)),
        ("server", "employee", "owner"),
        "name",
    ),
    "last_name": _Target(
        (("last name", 1.0), ("surname", 1.0), ("family name", 1.0), ("last", 0.5)),
        ("server", "employee", "owner", "order", "visit", "activity", "modified"),
        "name",
    ),
    "postal_code": _Target(
        (("zip", 1.0), ("postal code", 1.0), ("zip code", 1.0), ("postal", 0.9)), (), "zip"
    ),
    "hashed_cc": _Target(
        (
            ("card fingerprint", 1.0),
            ("cc hash", 1.0),
            ("card hash", 1.0),
            ("card token", 0.8),
            ("hashed cc", 1.0),
            ("fingerprint", 0.8),
        ),
        (),
        "hash",
    ),
    "loyalty_id": _Target(
        (
            ("loyalty id", 1.0),
            ("loyalty number", 1.0),
            ("membership number", 1.0),
            ("member id", 0.95),
            ("member number", 0.95),
            ("rewards number", 0.95),
            ("loyalty card", 0.85),
            ("membership id", 1.0),
            # A card number written out in full is a loyalty or gift card: a payment card's
            # never leaves the processor unmasked.
            ("card number", 0.7),
        ),
        (),
        "unmasked",
    ),
}

TARGETS = tuple(TARGET_RULES)
#: Suggestions below this confidence are reported but not put in the field map, except for a
#: required target's best candidate (a map without it cannot load anything).
MAP_THRESHOLD = 0.5
REQUIRED_TARGETS = ("transaction_id", "timestamp", "value")
#: Below this a candidate is not suggested at all; a required target's best candidate is
#: offered from a lower floor, since a map without it cannot load anything.
_FLOOR = 0.2
_REQUIRED_FLOOR = 0.1


def _included(words: list[str], word: str) -> bool:
    """``incl. tax``: the tax is part of the amount, not the amount itself."""
    position = words.index(word)
    return word == "tax" and position > 0 and words[position - 1] == "including"


def _name_score(words: list[str], rule: _Target) -> tuple[float, str | None]:
    compound = "".join(words)
    best, phrase_hit = 0.0, None
    for phrase, weight in rule.phrases:
        parts = phrase.split()
        if all(p in words for p in parts) or compound == "".join(parts):
            # An exact name beats a name that merely contains the phrase.
            coverage = len(parts) / max(len(words), len(parts))
            score = weight * (0.7 + 0.3 * coverage)
            if score > best:
                best, phrase_hit = score, phrase
    return best, phrase_hit


def _any_rate(profile: ColumnProfile, *patterns: str) -> float:
    return max((profile.rate(p) for p in patterns), default=0.0)


def _value_fit(kind: str | None, profile: ColumnProfile) -> tuple[float, str]:
    """How well the values fit a kind of target: a factor (0..1.1) and why."""
    if kind is None:
        return 1.0, ""
    if profile.total_count == profile.null_count:
        return 0.5, "the sample has no values"
    if kind == "time":
        if profile.rate("date_only") >= 0.8:
            # A day alone: used only when no column holds the time of day too.
            return 0.95, "values are dates without a time of day"
        if profile.inferred_type == "datetime":
            return 1.1, "values are dates/times"
        rate = _any_rate(
            profile,
            "date_iso",
            "us_date",
            "compact_date",
            "epoch_seconds",
            "epoch_millis",
            "epoch_micros",
        )
        return (1.1 if rate >= 0.8 else rate), f"{rate:.0%} of values are dates/times"
    if kind == "money":
        rate = _any_rate(profile, "currency", "decimal", "amount_cents")
        if profile.inferred_type == "number" or rate >= 0.8:
            return 1.05, "values are amounts"
        return rate, f"{rate:.0%} of values are amounts"
    if kind == "email":
        rate = profile.rate("email")
        return (1.1 if rate >= 0.8 else rate), f"{rate:.0%} of values are email addresses"
    if kind == "phone":
        rate = profile.rate("phone")
        return (1.05 if rate >= 0.7 else rate), f"{rate:.0%} of values are phone numbers"
    if kind == "hash":
        rate = _any_rate(profile, "sha256_hex", "md5_hex")
        return (1.1 if rate >= 0.8 else 0.6), f"{rate:.0%} of values are hex hashes"
    if kind == "zip":
        rate = profile.rate("us_zip")
        return (1.05 if rate >= 0.8 else 0.6), f"{rate:.0%} of values are ZIP codes"
    if kind == "currency":
        rate = profile.rate("iso_currency_code")
        return (1.05 if rate >= 0.8 else 0.3), f"{rate:.0%} of values are ISO currency codes"
    if kind == "integer":
        rate = profile.rate("integer")
        return (1.0 if rate >= 0.8 else 0.3), f"{rate:.0%} of values are whole numbers"
    if kind == "name":
        bad = _any_rate(profile, "email", "phone", "integer", "date_iso", "us_date")
        return (
            1.0 if bad < 0.2 else 0.2
        ), "values are words" if bad < 0.2 else "values are not names"
    if kind == "text":
        return (0.4, "values are numbers") if profile.inferred_type == "number" else (1.0, "")
    if kind == "id":
        if profile.unique_ratio >= 0.98:
            return 1.1, "every value is distinct"
        return 0.75, f"only {profile.unique_ratio:.0%} of values are distinct"
    if kind == "unmasked":
        masked = profile.rate("card_last4")
        if masked >= 0.5:
            return 0.2, f"{masked:.0%} of values are masked card digits"
        return 1.0, "values are written out in full"
    # "key": an identifier that may repeat (a customer, a store).
    if profile.inferred_type == "datetime" or _any_rate(profile, "email", "currency") > 0.5:
        return 0.3, "values do not look like identifiers"
    if profile.rate("words") >= 0.8:
        return 0.3, "values are names, not identifiers"
    return 1.0, ""


def _in_cents(words: list[str], profile: ColumnProfile) -> bool:
    """An amount written in cents: the name says so, or every value is a large whole number."""
    if "cents" in words or "minor" in words:
        return True
    if profile.rate("decimal") or profile.rate("currency") > profile.rate("amount_cents"):
        return False
    return profile.rate("amount_cents") >= 0.95 and (profile.min_value or 0) >= 100


def _pattern_only(profile: ColumnProfile) -> list[tuple[str, float, str]]:
    """Targets suggested by values alone, for columns whose names say nothing."""
    found = []
    if profile.rate("email") >= 0.9:
        found.append(("email", 0.7, "values are email addresses"))
    if profile.rate("sha256_hex") >= 0.9:
        found.append(("hashed_cc", 0.45, "values are SHA-256 hashes (card fingerprints?)"))
    if profile.rate("utm_in_url") >= 0.5:
        found.append(("utm_source", 0.3, "URLs carry utm_ parameters (parse them upstream)"))
    if profile.rate("gclid") >= 0.9 and (profile.min_length or 0) >= 40:
        found.append(("gclid", 0.5, "values look like Google click ids"))
    return found


def _ranked(profile: ColumnProfile) -> list[tuple[float, MappingSuggestion]]:
    """Suggestions with their unclamped scores (confidence stops at 0.99; ranking does not)."""
    words = tokens(profile.name)
    scored: list[tuple[float, MappingSuggestion]] = []
    for target, rule in TARGET_RULES.items():
        name_score, phrase = _name_score(words, rule)
        if not name_score:
            continue
        if any(w in rule.never and w not in (phrase or "").split() for w in words):
            continue
        against = [w for w in words if w in rule.against and not _included(words, w)]
        if against and phrase is not None and not all(a in phrase.split() for a in against):
            # Named as something else (a tip, an opening time): kept only as a last resort.
            name_score *= 0.4
        fit, why = _value_fit(rule.kind, profile)
        if rule.kind == "id" and fit < 1 and (phrase or "") in _ORDER_LEVEL_IDS:
            # An order id repeated on every line of its order: a line-item export, still
            # keyed by the order (the order-level id over the line's own).
            fit, why = 0.95, f"{why} (one row per line of an order)"
        raw = name_score * fit
        confidence = max(0.0, min(0.99, raw))
        reason = f"name matches {phrase!r}"
        if against:
            reason += f" but says {', '.join(against)!s}"
        if why:
            reason += f"; {why}"
        suggestion = MappingSuggestion(profile.name, target, round(confidence, 3), reason)
        if target == "value" and _in_cents(words, profile):
            suggestion.modifier = "cents"
            suggestion.reason += "; whole numbers read as cents"
        scored.append((raw, suggestion))
    names = {s.target_field for _, s in scored}
    for target, confidence, reason in _pattern_only(profile):
        if target not in names:
            scored.append((confidence, MappingSuggestion(profile.name, target, confidence, reason)))
    scored.sort(key=lambda pair: -pair[0])
    return scored


def heuristic_suggestions(profiles: Mapping[str, ColumnProfile]) -> list[MappingSuggestion]:
    """One suggestion per column: targets assigned greedily by confidence, each used once.

    A column that maps to nothing gets a suggestion with ``target_field=None`` saying why.
    """
    ranked = [pair for p in profiles.values() for pair in _ranked(p)]
    if _counts_purchases(profiles):
        # Each row is a customer, its amounts summaries (lifetime revenue): none is a value.
        ranked = [pair for pair in ranked if pair[1].target_field != "value"]
    ranked = _marketplace_subtotal(ranked, profiles)
    ranked = _order_over_transaction(ranked)
    ranked.sort(key=lambda pair: (-pair[0], pair[1].source_field))
    candidates = [s for _, s in ranked]
    chosen: dict[str, MappingSuggestion] = {}
    used: set[str] = set()
    for suggestion in candidates:
        if suggestion.source_field in chosen or suggestion.target_field in used:
            continue
        if suggestion.confidence < (
            _REQUIRED_FLOOR if suggestion.target_field in REQUIRED_TARGETS else _FLOOR
        ):
            continue
        chosen[suggestion.source_field] = suggestion
        used.add(str(suggestion.target_field))
    _key_people_list(chosen, profiles)
    _member_is_the_customer(chosen)
    result = []
    for name, profile in profiles.items():
        if name in chosen:
            suggestion = chosen[name]
            alternatives = [
                s.target_field
                for s in candidates
                if s.source_field == name and s.target_field != suggestion.target_field
            ]
            suggestion.alternatives = [a for a in alternatives if a][:3]
            suggestion.sample_values = profile.sample_values[:5]
            result.append(suggestion)
        else:
            result.append(
                MappingSuggestion(
                    name,
                    None,
                    0.0,
                    _unmapped_reason(name, candidates, chosen),
                    sample_values=profile.sample_values[:5],
                )
            )
    return result


def _marketplace_subtotal(
    ranked: list[tuple[float, MappingSuggestion]], profiles: Mapping[str, ColumnProfile]
) -> list[tuple[float, MappingSuggestion]]:
    """In a delivery marketplace's report (it charges a commission), the subtotal is the value.

    Its totals are what the restaurant is paid (after or before the commission, with the
    driver's tip and the platform's fees); the order's food subtotal is what it was worth.
    """
    if not any("commission" in tokens(name) for name in profiles):
        return ranked
    out = []
    for raw, suggestion in ranked:
        words = tokens(suggestion.source_field)
        if suggestion.target_field == "value" and "total" in words:
            raw *= 0.5
            suggestion.confidence = round(min(0.99, raw), 3)
            suggestion.reason += "; a marketplace report's totals are the restaurant's payout"
        out.append((raw, suggestion))
    for name, profile in profiles.items():
        fit, why = _value_fit("money", profile)
        if tokens(name) == ["subtotal"] and fit >= 1:
            reason = "a marketplace report (it charges a commission): the order's food subtotal"
            out.append((0.9, MappingSuggestion(name, "value", 0.9, f"{reason}; {why}")))
    return out


def _order_over_transaction(
    ranked: list[tuple[float, MappingSuggestion]],
) -> list[tuple[float, MappingSuggestion]]:
    """An order id over a transaction id: beside orders, a transaction is a payment or payout."""
    keys = [s for _, s in ranked if s.target_field == "transaction_id"]
    orders = [s for s in keys if {"order", "id"} <= set(tokens(s.source_field))]
    if not orders or max(s.confidence for s in orders) < 0.8:
        return ranked
    out = []
    for raw, suggestion in ranked:
        words = tokens(suggestion.source_field)
        if (
            suggestion.target_field == "transaction_id"
            and "transaction" in words
            and "order" not in words
        ):
            raw *= 0.85
            suggestion.confidence = round(min(0.99, raw), 3)
            suggestion.reason += "; beside an order id, a transaction is its payment"
        out.append((raw, suggestion))
    return out


#: A count of a customer's purchases: "purchase_count", "Total Visits", "Number of Orders".
_PURCHASE_WORDS = ("purchase", "order", "transaction", "visit", "checkin")
_COUNT_WORDS = ("count", "total", "number")


def _counts_purchases(profiles: Mapping[str, ColumnProfile]) -> bool:
    """True when a column counts each row's purchases: the rows are customers, not purchases.

    A singular word needs "count" ("Order Count"; "Order Number" is an order's own number).
    """
    for name in profiles:
        words = tokens(name)
        for word in words:
            if word in _PURCHASE_WORDS and "count" in words:
                return True
            plural = word.endswith("s") and word[:-1] in _PURCHASE_WORDS
            if plural and any(w in _COUNT_WORDS for w in words):
                return True
    return False


#: Targets that say a row describes a person.
_PERSON_FIELDS = ("email", "phone", "first_name", "last_name")
#: A transaction id named this surely is one, whatever else the source holds.
_NAMED_TRANSACTION = 0.75
#: A record's own id (``Id``, ``Record ID``): the key of whatever the rows are.
_OWN_IDS = (["id"], ["record", "id"], ["object", "id"])


def _key_people_list(
    chosen: dict[str, MappingSuggestion], profiles: Mapping[str, ColumnProfile]
) -> None:
    """Key a list of people (a CRM's contacts, a loyalty program's members) by its own id.

    Such a source has no purchase amount and no column named as a transaction; each row is a
    different person, so the person's id (distinct on every row) is the record's key, as a
    CRM contact's id is. Its signup date, if any, is the timestamp already.
    """
    by_target = {str(s.target_field): s for s in chosen.values()}
    if "value" in by_target or not any(t in by_target for t in _PERSON_FIELDS):
        return
    keyed = by_target.get("transaction_id")
    if keyed is not None and (
        keyed.confidence >= _NAMED_TRANSACTION or tokens(keyed.source_field) in _OWN_IDS
    ):
        return
    person = next(
        (
            by_target[t]
            for t in ("user_id", "loyalty_id")
            if t in by_target and profiles[by_target[t].source_field].unique_ratio >= 0.98
        ),
        None,
    ) or _external_id(profiles)
    if person is None:
        return
    if keyed is not None:
        del chosen[keyed.source_field]
    chosen[person.source_field] = MappingSuggestion(
        person.source_field,
        "transaction_id",
        person.confidence,
        f"{person.reason}; every row is a different person and nothing names a purchase: "
        "a list of people, keyed by this id",
        modifier=person.modifier,
    )


def _external_id(profiles: Mapping[str, ColumnProfile]) -> MappingSuggestion | None:
    """A person's id in the business's own systems (``external_id``), distinct on every row.

    Marketing platforms (Braze, Iterable...) keep their own id beside it; the external one is
    what joins the person to the business's other sources.
    """
    for name, profile in profiles.items():
        words = tokens(name)
        if words[:1] == ["external"] and words[-1:] == ["id"] and profile.unique_ratio >= 0.98:
            return MappingSuggestion(
                name, "user_id", 0.7, "the person's id in the business's own systems"
            )
    return None


def _member_is_the_customer(chosen: dict[str, MappingSuggestion]) -> None:
    """In purchases with no customer id, the loyalty member who bought is the customer."""
    by_target = {str(s.target_field): s for s in chosen.values()}
    member = by_target.get("loyalty_id")
    if (
        "user_id" in by_target
        or "value" not in by_target
        or member is None
        or "member" not in tokens(member.source_field)
    ):
        return
    chosen[member.source_field] = MappingSuggestion(
        member.source_field,
        "user_id",
        member.confidence,
        f"{member.reason}; the purchases name no other customer: the member is the customer",
    )


def _unmapped_reason(
    name: str, candidates: list[MappingSuggestion], chosen: Mapping[str, MappingSuggestion]
) -> str:
    """Why a column maps to nothing: no target fits, or a better column took its target."""
    own = [s for s in candidates if s.source_field == name and s.confidence >= 0.2]
    if not own:
        return "no target field fits its name and values"
    best = own[0]
    winner = next((s for s in chosen.values() if s.target_field == best.target_field), None)
    if winner is None:  # pragma: no cover - a candidate's target is always taken if skipped
        return "no target field fits its name and values"
    return (
        f"could be {best.target_field} ({best.confidence:.2f}: {best.reason}), but "
        f"{winner.source_field!r} fits it better ({winner.confidence:.2f})"
    )
