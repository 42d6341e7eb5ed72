"""Who a simulated person is: name, company, e-mail addresses and system ids.

Surnames and company names are spelled from two-letter syllables through a bijection of the
person (or company) index, so every (first, last) pair is unique: identity_mismatch can only
fire where a journey plants a duplicate on purpose, never by accident between two people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from .contract_defaults import ROLE_ACCOUNTS

FIRST_NAMES = (
    "Ann",
    "Bob",
    "Carla",
    "Dan",
    "Eva",
    "Finn",
    "Gina",
    "Hugo",
    "Ines",
    "Jon",
    "Kim",
    "Lena",
    "Marc",
    "Nora",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Vik",
    "Wen",
    "Xena",
    "Yusuf",
    "Zoe",
    "Aiko",
    "Ben",
    "Chloe",
    "Diego",
    "Elif",
    "Farah",
    "Georg",
    "Hana",
    "Ivan",
    "Jana",
    "Kofi",
    "Lars",
    "Maya",
    "Nils",
    "Olga",
    "Paul",
    "Rhea",
    "Sven",
    "Tomas",
    "Ulla",
    "Vera",
    "Will",
    "Yara",
    "Zeno",
    "Amir",
    "Bea",
    "Cyril",
    "Dora",
    "Emil",
    "Fatima",
    "Gus",
    "Hiro",
    "Ida",
    "Jules",
    "Karin",
    "Leo",
    "Mia",
    "Noah",
    "Oona",
    "Priya",
    "Raj",
    "Sofia",
    "Theo",
    "Ugo",
    "Valentina",
    "Wanda",
    "Xavier",
    "Yosef",
    "Zara",
    "Anouk",
    "Bruno",
    "Celia",
    "Dmitri",
    "Esther",
    "Felix",
    "Greta",
    "Hector",
    "Isla",
    "Joao",
    "Kai",
    "Lucia",
    "Mateo",
)
_CONSONANTS = "bdfghklmnprstvz"  # 15
_VOWELS = "aeiou"  # 5 -> 75 syllables; we use the first 64 so digits are base 64
SYLLABLES = tuple(c + v for c in _CONSONANTS for v in _VOWELS)[:64]
_SURNAME_SUFFIXES = ("son", "man", "berg", "ley", "ton", "ski", "ford", "dahl")
_COMPANY_KINDS = (
    "Labs",
    "Systems",
    "Group",
    "Analytics",
    "Health",
    "Logistics",
    "Capital",
    "Software",
    "Foods",
    "Energy",
    "Robotics",
    "Media",
)
_TLDS = ("com", "io", "de", "co.uk", "fr", "com", "com", "net")
FREE_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com")
ROLE_LOCALS = tuple(sorted({"info", "sales", "contact", "hello", "team", "office"} & ROLE_ACCOUNTS))

_SURNAME_SPACE = 64**3 * len(_SURNAME_SUFFIXES)  # 2**21


def _syllables(n: int, count: int) -> str:
    out = []
    for _ in range(count):
        n, digit = divmod(n, 64)
        out.append(SYLLABLES[digit])
    return "".join(out)


def surname(idx: int) -> str:
    """A surname unique to person `idx` (a prefix code, so no two indexes spell the same)."""
    if idx < _SURNAME_SPACE:
        # An odd multiplier is a bijection modulo a power of two: neighbours look unrelated.
        n = (idx * 1_103_515_245 + 12_345) % _SURNAME_SPACE
        return (_syllables(n % 64**3, 3) + _SURNAME_SUFFIXES[n // 64**3]).capitalize()
    return (_syllables(idx, 5) + "ova").capitalize()


@lru_cache(maxsize=65_536)
def company_name(cidx: int) -> tuple[str, str]:
    """(display name, e-mail domain) of company `cidx`, unique per index."""
    stem = _syllables((cidx * 40_503 + 7) % 64**3, 3) if cidx < 64**3 else _syllables(cidx, 4)
    kind = _COMPANY_KINDS[cidx % len(_COMPANY_KINDS)]
    tld = _TLDS[(cidx // 7) % len(_TLDS)]
    return f"{stem.capitalize()} {kind}", f"{stem}{kind.lower()}.{tld}"


@dataclass(slots=True)
class Identity:
    """Everything that identifies one person across the four systems."""

    idx: int
    person_id: str
    first: str
    last: str
    company: str
    domain: str
    main_email: str  # the address the person normally gives
    alt_email: str  # a second address HubSpot keeps in hs_additional_emails
    personal_email: str  # used only by identity_mismatch duplicates (CRM, forms)
    alias_email: str  # same domain, other spelling: identity_mismatch duplicates (Zendesk)
    role_email: str | None  # info@company etc. typed into forms by some people
    lead_id: str
    contact_id: str
    dup_contact_id: str
    zendesk_user_id: int
    dup_zendesk_user_id: int
    ticket_id_base: int


def _zendesk_user_id(idx: int, k: int) -> int:
    # A third of the ids lie above 2**53, where a float parse corrupts them (Zendesk ids are
    # 64-bit integers).
    return (2**53 + 1 + idx * 2 + k) if idx % 3 == 0 else (360_000_000_000 + idx * 2 + k)


TICKETS_PER_PERSON = 8


def _ticket_id_base(idx: int) -> int:
    if idx % 5 == 0:
        return 2**54 + 3 + idx * TICKETS_PER_PERSON
    return 100_000 + idx * TICKETS_PER_PERSON


def make_identity(
    idx: int,
    rng: random.Random,
    n_companies: int,
    free_email_rate: float,
    role_account_rate: float,
    seed: int,
) -> Identity:
    rand = rng.random
    # Picks written out (seq[int(rand() * len(seq))]): this runs once per person and attempt.
    first = FIRST_NAMES[int(rand() * len(FIRST_NAMES))]
    last = surname(idx)
    # A skewed pick: a few big companies with many people, a long tail of small ones.
    cidx = (
        min(int(rng.paretovariate(1.2)) - 1, n_companies - 1)
        if rand() < 0.3
        else (int(rand() * n_companies))
    )
    company, domain = company_name(cidx)
    f, lname = first.lower(), last.lower()
    free = FREE_DOMAINS[int(rand() * len(FREE_DOMAINS))]
    if rand() < free_email_rate:
        main_email = f"{f}.{lname}{10 + int(rand() * 89)}@{free}"
        alias_domain = main_email.split("@", 1)[1]
    else:
        main_email = f"{f}.{lname}@{domain}"
        alias_domain = domain
    role_email = (
        f"{ROLE_LOCALS[int(rand() * len(ROLE_LOCALS))]}@{domain}"
        if rand() < role_account_rate
        else None
    )
    return Identity(
        idx=idx,
        person_id=f"p{idx:07d}",
        first=first,
        last=last,
        company=company,
        domain=domain,
        main_email=main_email,
        alt_email=f"{f[0]}.{lname}@{domain}",
        personal_email=(
            f"{f}{lname}{100 + int(rand() * 899)}@{FREE_DOMAINS[int(rand() * len(FREE_DOMAINS))]}"
        ),
        alias_email=f"{f[0]}_{lname}@{alias_domain}",
        role_email=role_email,
        lead_id=f"LD{seed % 100:02d}-{idx:07d}",
        contact_id=str(10_000_000 + idx * 2),
        dup_contact_id=str(10_000_000 + idx * 2 + 1),
        zendesk_user_id=_zendesk_user_id(idx, 0),
        dup_zendesk_user_id=_zendesk_user_id(idx, 1),
        ticket_id_base=_ticket_id_base(idx),
    )
