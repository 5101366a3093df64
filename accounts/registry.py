"""The chamber's member register as company pages (`manage.py import_companies`).

The CSV (UTF-8, a header row, `;` or `,` as separator; docs/accounts.md) has the
columns `name`, `register_number`, `street`, `postcode`, `city`, `wz_code`,
`wz_title`, `website`. Every row is checked first; a row with a mistake is refused
with a German message naming its line, and nothing of it is stored. Each good row
creates or updates, by its register number, one company page marked as coming from
the register (verified by its source), in a transaction of its own: a row is either
stored whole or not at all. A second run of the same file changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.actions import FieldErrors, domain_of, slug_for, sync_company_verified
from accounts.models import Company, Verification
from realtime.errors import ClientError

COLUMNS = (
    "name",
    "register_number",
    "street",
    "postcode",
    "city",
    "wz_code",
    "wz_title",
    "website",
)
REQUIRED = ("name", "register_number", "postcode", "city", "wz_code", "wz_title")
REGISTER_NUMBER = re.compile(r"^(HRA|HRB|GnR|PR|VR|GsR)\s?\d{1,6}(\s?[A-Z]{1,2})?(\s+\S.*)?$")
POSTCODE = re.compile(r"^\d{5}$")
# WZ 2008: section letter optional, then division, group, class, subclass ("25.11.0").
WZ_CODE = re.compile(r"^\d{2}(\.\d{1,2}(\.\d)?)?$")
LIMITS = {"name": 160, "street": 200, "city": 100, "wz_title": 120, "website": 200}


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, German reason)

    def summary(self) -> str:
        return (
            f"{len(self.created)} angelegt, {len(self.updated)} aktualisiert, "
            f"{len(self.unchanged)} unverändert, {len(self.refused)} abgelehnt"
        )


def _row_values(row: dict[str, str]) -> dict[str, Any]:
    """The company fields of one CSV row, or `ClientError` with every mistake."""
    errors = FieldErrors()
    clean = {key: " ".join(str(row.get(key) or "").split()) for key in COLUMNS}
    for key in REQUIRED:
        if not clean[key]:
            errors.add(key, "fehlt")
    for key, limit in LIMITS.items():
        if len(clean[key]) > limit:
            errors.add(key, f"höchstens {limit} Zeichen")
    if clean["register_number"] and not REGISTER_NUMBER.match(clean["register_number"]):
        errors.add("register_number", "keine Registernummer wie „HRB 12345 Bochum“")
    if clean["postcode"] and not POSTCODE.match(clean["postcode"]):
        errors.add("postcode", "keine fünfstellige Postleitzahl")
    if clean["wz_code"] and not WZ_CODE.match(clean["wz_code"]):
        errors.add("wz_code", "kein WZ-2008-Schlüssel wie „25.11“")
    website = clean["website"]
    if website and "://" not in website:
        website = f"https://{website}"
    domain = domain_of(website) if website else ""
    if website and "." not in domain:
        errors.add("website", "keine Web-Adresse")
    errors.raise_if_any()
    return {
        "name": clean["name"],
        "register_number": clean["register_number"],
        "address": f"{clean['street']}, {clean['postcode']} {clean['city']}".lstrip(", "),
        "city": clean["city"],
        "wz_code": clean["wz_code"],
        "industry": clean["wz_title"],
        "website": website,
        "domain": domain,
    }


def _reason(error: ClientError) -> str:
    if not error.fields:
        return error.detail
    return "; ".join(f"{key}: {', '.join(messages)}" for key, messages in error.fields.items())


def _store(values: dict[str, Any]) -> str:
    """Create or update the page of one register row; 'created', 'updated' or
    'unchanged'. Raises `ClientError` (409) for a domain another page holds."""
    existing = Company.objects.select_for_update().filter(
        register_number__iexact=values["register_number"]
    )
    company = existing.first()
    others = Company.objects.exclude(pk=company.pk) if company else Company.objects.all()
    if values["domain"] and others.filter(domain__iexact=values["domain"]).exists():
        raise ClientError(
            "conflict", f"Die Domain {values['domain']} gehört schon zu einem anderen Profil."
        )
    marked = {"verification": Verification.REGISTER}
    if company is None:
        base = slug_for(values["name"])
        slug, number = base, 1
        while slug == "neu" or Company.objects.filter(slug=slug).exists():
            number += 1
            slug = f"{base}-{number}"
        Company.objects.create(slug=slug, verified_at=timezone.now(), **values, **marked)
        return "created"
    changes = {
        key: value for key, value in {**values, **marked}.items() if getattr(company, key) != value
    }
    if not changes:
        return "unchanged"
    if "verification" in changes:
        changes["verified_at"] = timezone.now()
    Company.objects.filter(pk=company.pk).update(**changes)
    if "verification" in changes:
        sync_company_verified(company_id=company.pk)
    return "updated"


def import_register(text: str) -> ImportResult:
    """Import the register CSV in `text` (see the module docstring)."""
    result = ImportResult()
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise ClientError("bad_request", f"Es fehlen die Spalten: {', '.join(missing)}.")
    reader.fieldnames = header
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        try:
            values = _row_values(row)
            key = values["register_number"].lower()
            if key in seen:
                raise ClientError(
                    "conflict", f"Registernummer doppelt in der Datei (schon Zeile {seen[key]})."
                )
            seen[key] = line
            with transaction.atomic():
                outcome = _store(values)
        except ClientError as error:
            result.refused.append((line, _reason(error)))
            continue
        except IntegrityError:
            result.refused.append((line, "Widerspricht einem anderen Profil."))
            continue
        getattr(result, outcome).append(values["name"])
    return result
