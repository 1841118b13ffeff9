"""English to Swedish for the words of regional governance, so an English question can be searched
and checked word for word against Swedish documents.

The embedding model is multilingual, but BM25, sentence choice and the refusal checks count words,
and an English word never occurs in a Swedish text. `swedish_terms` gives the Swedish words an
English question is about; words it does not know are left out, Swedish terms the asker quoted
("(låneram)") and names are kept.
"""

from __future__ import annotations

import re

from .lexical import QUOTED_TERM

# Longer phrases first; each English phrase maps to Swedish words that a document would use.
_PHRASES: dict[str, str] = {
    "primary care": "primärvård vårdcentral",
    "health care": "hälso- och sjukvård", "medical care": "sjukvård",
    "sick leave": "sjukfrånvaro", "sickness absence": "sjukfrånvaro",
    "employee engagement": "medarbetarengagemang", "staff engagement": "medarbetarengagemang",
    "greenhouse gas": "växthusgaser", "greenhouse gases": "växthusgaser", "carbon dioxide": "koldioxid",
    "electric bus": "elbuss", "electric buses": "elbussar", "city traffic": "stadstrafik",
    "public transport": "kollektivtrafik", "bus traffic": "busstrafik",
    "regional council": "regionfullmäktige", "regional executive board": "regionstyrelse",
    "regional board": "regionstyrelse", "regional director": "regiondirektör",
    "interim report": "delårsrapport", "annual report": "årsredovisning", "budget proposal": "budgetförslag",
    "sustainability programme": "hållbarhetsprogram", "sustainability program": "hållbarhetsprogram",
    "development strategy": "utvecklingsstrategi", "full year": "helår helåret", "first quarter": "första kvartalet",
    "operating budget": "driftsram driftbudget", "investment budget": "investeringsbudget",
    "borrowing limit": "låneram", "tax rate": "skattesats", "tax revenue": "skatteintäkter",
    "cash and bank": "likvida medel", "balanced budget": "balanskrav", "net cost": "nettokostnad",
    "hired staff": "hyrpersonal", "agency staff": "hyrpersonal", "temporary staff": "hyrpersonal",
    "areas of operation": "verksamhetsområden", "areas of operations": "verksamhetsområden",
    "emergency department": "akutmottagning", "emergency care": "akutvård", "dental care": "tandvård",
    "child dental care": "barntandvård", "psychiatric care": "psykiatri", "forensic psychiatry": "rättspsykiatri",
    "hospital care": "sjukhusvård", "care places": "vårdplatser", "hospital beds": "vårdplatser",
    "waiting times": "väntetider", "waiting time": "väntetid", "care guarantee": "vårdgaranti",
    "solar cells": "solceller", "solar panels": "solceller", "renewable fuels": "förnybara drivmedel",
}
_WORDS: dict[str, str] = {
    "budget": "budget", "budgeted": "budgeterat budget", "result": "resultat", "results": "resultat",
    "outcome": "utfall", "actual": "utfall", "forecast": "prognos", "target": "mål målvärde", "targets": "mål",
    "goal": "mål", "goals": "mål", "plan": "plan", "planned": "plan planerade", "cost": "kostnad", "costs": "kostnader",
    "spend": "satsning satsar kostnad", "spending": "satsning kostnad", "initiative": "satsning",
    "investment": "investering", "investments": "investeringar", "invested": "investeringar",
    "revenue": "intäkter", "income": "intäkter", "grant": "bidrag", "grants": "bidrag", "loan": "lån",
    "employees": "medarbetare anställda", "employee": "medarbetare", "staff": "personal medarbetare",
    "nurses": "sjuksköterskor", "nurse": "sjuksköterska", "doctors": "läkare", "physicians": "läkare",
    "patients": "patienter", "patient": "patient", "inhabitants": "invånare", "residents": "invånare",
    "population": "invånare befolkning", "children": "barn", "young": "unga", "elderly": "äldre",
    "hospital": "sjukhus", "hospitals": "sjukhus", "care": "vård", "healthcare": "hälso- och sjukvård",
    "emissions": "utsläpp", "climate": "klimat", "energy": "energi", "electricity": "el", "fuel": "bränsle",
    "vehicles": "fordon", "buses": "bussar", "bus": "buss", "trains": "tåg", "train": "tåg", "traffic": "trafik",
    "trust": "förtroende", "confidence": "förtroende", "accessibility": "tillgänglighet", "access": "tillgänglighet",
    "members": "ledamöter", "member": "ledamot", "parties": "partier", "party": "parti", "majority": "majoritet",
    "opposition": "opposition", "alliance": "allians alliansen", "proposal": "förslag", "programme": "program",
    "strategy": "strategi", "report": "rapport", "document": "dokument", "documents": "dokument",
    "share": "andel", "percentage": "andel procent", "percent": "procent", "rate": "andel nivå",
    "retirement": "pension pensionsålder", "age": "ålder", "engagement": "engagemang", "sick": "sjuk",
    "infections": "infektioner", "vaccination": "vaccination", "dental": "tand", "psychiatry": "psykiatri",
    "municipality": "kommun", "municipalities": "kommuner", "county": "län", "region": "region",
    "regional": "regional", "director": "direktör",
    "summary": "sammanfattning", "dated": "datum", "date": "datum", "principles": "principer", "principle": "princip",
    "processes": "processer", "process": "process", "dimensions": "dimensioner", "model": "modell",
    "dependency": "försörjningskvot", "ratio": "kvot", "liquidity": "likviditet", "pharmaceuticals": "läkemedel",
    "drugs": "läkemedel", "medicines": "läkemedel", "pension": "pension", "equity": "soliditet",
    "sustainable": "hållbar", "sustainability": "hållbarhet", "environment": "miljö", "environmental": "miljö",
    "food": "livsmedel", "organic": "ekologisk", "meat": "kött", "travel": "resor", "cycling": "cykla",
    "walking": "gå", "tunnel": "tunnel", "airport": "flygplats", "company": "bolag", "companies": "bolag",
    "turnover": "omsättning", "ownership": "ägarandel", "owned": "ägda", "leased": "leasade",
    "visits": "besök", "video": "video", "digital": "digital", "waiting": "väntande", "queue": "kö",
    "assessment": "bedömning", "recruitment": "rekrytering", "salary": "lön", "salaries": "löner", "wage": "lön",
    "years": "år", "year": "år", "quarter": "kvartal", "march": "mars", "june": "juni", "december": "december",
    "total": "totalt", "average": "genomsnitt", "increase": "öka ökning", "decrease": "minska minskning",
    "reduce": "minska", "reduced": "minskat", "grow": "öka", "expected": "förväntas", "compared": "jämfört",
}
# English words of measures -> the one Swedish word a table's row label uses ("sick" -> "sjukfrånvaro",
# where _WORDS gives "sjuk" for searching passages). The table lookup (assistant/tables/matcher.py)
# translates an English question's words with these; with _WORDS' readings of the 8 keys both have
# ("engagement", "fuel", "investment", "organic", "retirement", "sick", "staff", "traffic") 13 of the
# 642 dev and rewrite questions would get other table hits, so the row words stay as they are.
ROW_WORDS: dict[str, str] = {
    "sick": "sjukfrånvaro", "absence": "sjukfrånvaro", "retirement": "pensionsålder",
    "renewable": "förnybara", "fuels": "drivmedel", "fuel": "drivmedel", "solar": "solceller",
    "operating": "driftram", "frame": "driftram", "frames": "driftram", "investment": "investeringar",
    "investments": "investeringar", "invested": "investeringar", "tax": "skatteintäkter",
    "revenue": "intäkter", "revenues": "intäkter", "pharmaceuticals": "läkemedel", "drugs": "läkemedel",
    "medicines": "läkemedel", "cash": "likviditet", "liquidity": "likviditet", "inhabitants": "invånare",
    "residents": "invånare", "doctor": "läkare", "doctors": "läkare", "physician": "läkare",
    "employment": "sysselsättningsgrad", "engagement": "medarbetarengagemang", "trust": "förtroende",
    "confidence": "förtroende", "equity": "soliditet", "solvency": "soliditet", "depreciation": "avskrivningar",
    "punctuality": "punktlighet", "customer": "kund", "satisfaction": "nöjd", "market": "marknadsandel",
    "share": "andel", "transport": "kollektivtrafik", "emissions": "utsläpp", "greenhouse": "växthusgaser",
    "organic": "ekologiska", "food": "livsmedel", "board": "nämnd", "committee": "nämnd",
    "traffic": "trafiknämnd", "culture": "kulturnämnd", "health": "hälso", "waste": "avfall",
    "result": "resultat", "surplus": "resultat", "payment": "ersättning", "staff": "personal",
    "hired": "hyrpersonal", "agency": "hyrpersonal", "readmission": "återinskrivning",
    "continuity": "kontinuitetsindex", "infections": "infektioner", "antibiotic": "antibiotikarecept",
    "antibiotics": "antibiotikarecept", "prescriptions": "recept",
}
_FUNCTION_WORDS = {"how", "what", "which", "who", "when", "where", "why", "is", "are", "was", "were", "does", "did",
                   "do", "the", "a", "an", "and", "or", "in", "on", "of", "for", "to", "by", "according"}
_TOKEN = re.compile(r"[\wåäöÅÄÖéÉ%+\-–]+")


def swedish_terms(question: str) -> str:
    """The Swedish words an English question is about: quoted Swedish terms, names and numbers as
    written, known English words and phrases translated, the rest left out."""
    kept = [a or b for a, b in QUOTED_TERM.findall(question)]
    text = QUOTED_TERM.sub(" ", question).lower()
    for phrase in sorted(_PHRASES, key=len, reverse=True):
        text, n = re.subn(rf"\b{re.escape(phrase)}\b", " ", text)
        kept += [_PHRASES[phrase]] * min(n, 1)
    originals = {w.lower(): w for w in _TOKEN.findall(question)}
    for token in _TOKEN.findall(text):
        if token in _FUNCTION_WORDS:
            continue
        if token in _WORDS:
            kept.append(_WORDS[token])
        elif any(c.isdigit() for c in token) or re.search(r"[åäöé]", token) or originals.get(token, "")[:1].isupper():
            kept.append(originals.get(token, token))
    return " ".join(kept)
