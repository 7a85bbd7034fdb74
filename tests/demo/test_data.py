"""The demo Shanghai node's data: departments, catalog and generated hosted tables."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pyarrow as pa
import pytest
from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

from hutong.catalog.schemas import BaseCatalog, OpenType, ResourceCreate, SharingType
from hutong.core.ids import check_uscc
from hutong.demo import data

MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
SHANGHAI_DISTRICTS = {d.code: d.name for d in data.DISTRICTS}


@pytest.fixture(scope="module")
def specs() -> list[dict]:
    return data.resource_specs()


@pytest.fixture(scope="module")
def people() -> pa.Table:
    return data.population(5_000, seed=11)


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return data.hosted_tables(seed=5, population_size=5_000)


def _org_code_is_valid(code: str) -> bool:
    org = code[8:17]
    return data.organization_check_char(org[:8]) == org[8]


# --- departments ---------------------------------------------------------------------


def test_every_department_has_a_valid_credit_code():
    for dept in data.DEPARTMENTS:
        assert stdnum_uscc.is_valid(dept.uscc), dept
        assert check_uscc(dept.uscc) == dept.uscc
        assert _org_code_is_valid(dept.uscc), dept
        assert dept.uscc[:2] in {"11", "12"}  # government organ or public institution
        assert dept.uscc[2:4] == "31"  # registered in Shanghai


def test_departments_are_distinct_and_described():
    assert len(data.DEPARTMENTS) >= 14
    assert len({d.uscc for d in data.DEPARTMENTS}) == len(data.DEPARTMENTS)
    assert len({d.short_name for d in data.DEPARTMENTS}) == len(data.DEPARTMENTS)
    for dept in data.DEPARTMENTS:
        assert re.fullmatch(r"[a-z][a-z_]*", dept.short_name)
        assert dept.name and dept.name_en and dept.description
        assert dept.roles and set(dept.roles) <= {"steward", "consumer", "operator"}


def test_the_operator_is_the_big_data_center():
    assert data.operator().name == "上海市大数据中心"
    assert [d.short_name for d in data.DEPARTMENTS if "operator" in d.roles] == ["bigdata"]
    assert data.department("police").name == "上海市公安局"
    assert sum("steward" in d.roles for d in data.DEPARTMENTS) >= 12


def test_make_uscc_computes_both_check_characters():
    code = data.make_uscc("91", "310115", "MA1K3W4J")
    assert stdnum_uscc.is_valid(code)
    assert _org_code_is_valid(code)
    with pytest.raises(ValueError):
        data.make_uscc("91", "310115", "MA1K3W4I")  # I is not allowed


# --- catalog -------------------------------------------------------------------------


def test_every_spec_validates_as_resource_create(specs):
    for spec in specs:
        ResourceCreate.model_validate(spec)


def test_catalog_size_and_spread(specs):
    assert len(specs) >= 44
    assert len({s["code"] for s in specs}) == len(specs)
    assert len({s["name"] for s in specs}) == len(specs)
    counts = Counter(s["base_catalog"] for s in specs)
    for catalog in BaseCatalog:
        assert counts[catalog.value] >= 5, catalog
    providers = {s["provider"] for s in specs}
    assert len(providers) >= 12
    assert providers <= {d.uscc for d in data.DEPARTMENTS}


def test_codes_follow_their_classification(specs):
    for spec in specs:
        classification, sequence = spec["code"].split("-")
        assert classification == spec["classification"]
        assert len(sequence) == 5
        assert spec["classification_name"] == data.CLASSIFICATIONS[classification]


def test_related_codes_exist(specs):
    codes = {s["code"] for s in specs}
    for spec in specs:
        assert spec["code"] not in spec["related"]
        assert set(spec["related"]) <= codes, spec["code"]
    assert sum(bool(s["related"]) for s in specs) == len(specs)


def test_personal_information_is_never_open(specs):
    for spec in specs:
        if any(f.get("pi_category") for f in spec["fields"]):
            assert spec["opening"]["type"] == OpenType.closed, spec["code"]
    open_codes = {s["code"] for s in specs if s["opening"]["type"] == OpenType.open}
    assert {data.ADDRESSES, "103001-00002", "102001-00002"} <= open_codes


def test_sharing_mixes_types_with_legal_bases(specs):
    kinds = Counter(s["sharing"]["type"] for s in specs)
    assert kinds[SharingType.unconditional] + kinds[SharingType.conditional] > 0.8 * len(specs)
    assert 1 <= kinds[SharingType.none] <= 5
    for spec in specs:
        sharing = spec["sharing"]
        if sharing["type"] != SharingType.unconditional:
            assert sharing["reason"] and "《" in sharing["legal_basis"], spec["code"]


def test_metadata_is_plausible(specs):
    grades = Counter(s["security_grade"] for s in specs)
    assert grades["general"] and grades["important"]
    assert len({s["update_cycle"] for s in specs}) >= 5
    for spec in specs:
        assert dt.date(2022, 1, 1) <= spec["published_on"] <= dt.date(2026, 12, 31)
        assert spec["keywords"]
        assert all(f["label"] for f in spec["fields"])
        assert sum(bool(f.get("key")) for f in spec["fields"]) == 1, spec["code"]


def test_hosted_specs_are_the_generated_tables(specs, tables):
    hosted = {s["code"] for s in specs if s["hosted"]}
    assert hosted == set(data.HOSTED_CODES) == set(tables)
    assert len(hosted) >= 5


# --- population ----------------------------------------------------------------------


def test_resident_ids_are_valid_and_agree_with_the_row(people):
    assert people.num_rows == 5_000
    for row in people.to_pylist():
        rid = row["resident_id"]
        assert re.fullmatch(r"[0-9]{17}[0-9X]", rid)
        assert rid[-1] == ric.calc_check_digit(rid)
        assert ric.get_birth_date(rid) == row["birth_date"]
        assert row["sex"] == ("男" if int(rid[16]) % 2 else "女")
        assert row["household_district"] == rid[:6]


def test_resident_ids_are_unique(people):
    ids = people.column("resident_id").to_pylist()
    assert len(set(ids)) == len(ids)


def test_shanghai_born_live_in_their_district(people):
    rows = people.to_pylist()
    local = [r for r in rows if r["resident_id"][:6] in SHANGHAI_DISTRICTS]
    assert 0.5 < len(local) / len(rows) < 0.8  # the rest were born in other provinces
    assert {r["resident_id"][:6] for r in local} == set(SHANGHAI_DISTRICTS)
    for row in local:
        district = SHANGHAI_DISTRICTS[row["resident_id"][:6]]
        assert row["address"].startswith(f"上海市{district}")
    for row in rows:
        assert re.fullmatch(r"上海市\w+区\w+(路|大道)([0-9]+弄)?[0-9]+号[0-9]+室", row["address"])


def test_names_mobiles_and_ethnicities(people):
    rows = people.to_pylist()
    for row in rows:
        assert 2 <= len(row["name"]) <= 3
        age = data.REFERENCE_DATE.year - row["birth_date"].year
        if age >= 15:
            assert MOBILE.match(row["mobile"]), row
        elif age < 13:
            assert row["mobile"] is None
    ethnicities = Counter(r["ethnicity"] for r in rows)
    assert ethnicities["汉族"] > 0.95 * len(rows)
    assert all(e.endswith("族") for e in ethnicities)
    assert Counter(r["sex"] for r in rows).keys() == {"男", "女"}


def test_population_is_deterministic():
    assert data.population(2_000, seed=3).equals(data.population(2_000, seed=3))
    assert not data.population(2_000, seed=3).equals(data.population(2_000, seed=4))


# --- all hosted tables ---------------------------------------------------------------


def test_hosted_columns_are_the_spec_fields(tables):
    for code, table in tables.items():
        spec = data.resource_spec(code)
        assert table.column_names == [f["name"] for f in spec["fields"]], code
        assert table.schema.equals(data.arrow_schema(spec)), code
        assert table.num_rows > 0, code


def test_key_columns_are_unique_and_present(tables):
    for code, table in tables.items():
        for field in data.resource_spec(code)["fields"]:
            if field.get("key"):
                values = table.column(field["name"]).to_pylist()
                assert None not in values, code
                assert len(set(values)) == len(values), code


def test_hosted_tables_are_deterministic():
    first = data.hosted_tables(seed=9, population_size=1_000)
    second = data.hosted_tables(seed=9, population_size=1_000)
    assert first.keys() == second.keys()
    for code in first:
        assert first[code].equals(second[code]), code


def test_population_in_hosted_tables_is_population(tables):
    assert tables[data.POPULATION].equals(data.population(5_000, seed=5))


def test_enterprises_have_valid_credit_codes(tables):
    firms = tables[data.ENTERPRISES].to_pylist()
    assert len(firms) == 1_000
    for firm in firms:
        code = firm["uscc"]
        assert code.startswith("91310") and stdnum_uscc.is_valid(code), code
        assert check_uscc(code) == code
        assert _org_code_is_valid(code)
        assert firm["name"].startswith("上海")
        assert firm["established_on"] <= data.REFERENCE_DATE
        assert firm["registered_address"].startswith(f"上海市{firm['district']}")
        if firm["established_on"] >= dt.date(2015, 10, 1):
            assert code[8:11] == "MA1"


def test_licences_and_penalties_name_registered_enterprises(tables):
    firms = {r["uscc"]: r for r in tables[data.ENTERPRISES].to_pylist()}
    licences = tables[data.BUSINESS_LICENCES].to_pylist()
    assert licences
    for licence in licences:
        firm = firms[licence["uscc"]]
        assert firm["status"] in {"存续", "吊销"}
        assert licence["name"] == firm["name"]
        assert licence["legal_representative"] == firm["legal_representative"]
        assert firm["established_on"] <= licence["issued_on"] <= data.REFERENCE_DATE
    penalties = tables[data.PENALTIES].to_pylist()
    assert penalties
    for penalty in penalties:
        firm = firms[penalty["party_uscc"]]
        assert penalty["party_name"] == firm["name"]
        assert firm["established_on"] < penalty["decided_on"] < penalty["publicity_until"]
        assert penalty["authority"].endswith("市场监督管理局")
        assert (penalty["fine_amount"] is None) == (penalty["penalty_type"] == "警告")


def test_vaccinations_name_residents(tables):
    people = {r["resident_id"]: r for r in tables[data.POPULATION].to_pylist()}
    shots = tables[data.VACCINATIONS].to_pylist()
    assert len(shots) > len(people)
    for shot in shots:
        person = people[shot["resident_id"]]
        assert shot["name"] == person["name"]
        assert person["birth_date"] <= shot["vaccinated_on"] <= data.REFERENCE_DATE
        assert shot["dose_no"] >= 1
    assert any("新型冠状病毒" in s["vaccine_name"] for s in shots)


def test_marriages_join_a_man_and_a_woman_of_legal_age(tables):
    people = {r["resident_id"]: r for r in tables[data.POPULATION].to_pylist()}
    records = tables[data.MARRIAGES].to_pylist()
    assert records
    married = Counter()
    for record in records:
        man, woman = people[record["male_resident_id"]], people[record["female_resident_id"]]
        assert (man["sex"], woman["sex"]) == ("男", "女")
        assert (record["male_name"], record["female_name"]) == (man["name"], woman["name"])
        day = record["registered_on"]
        assert day <= data.REFERENCE_DATE
        assert day >= man["birth_date"].replace(year=man["birth_date"].year + 22, day=1)
        assert day >= woman["birth_date"].replace(year=woman["birth_date"].year + 20, day=1)
        assert record["registration_no"][0] == (
            "J" if record["registration_type"] == "结婚登记" else "L"
        )
        if record["registration_type"] == "结婚登记":
            married[man["resident_id"]] += 1
            married[woman["resident_id"]] += 1
    assert max(married.values()) == 1


def test_addresses_are_the_doors_people_live_behind(tables):
    doors = tables[data.ADDRESSES].to_pylist()
    full = {d["full_address"] for d in doors}
    for door in doors:
        assert door["district"] == SHANGHAI_DISTRICTS[door["district_code"]]
        assert door["full_address"].startswith(f"上海市{door['district']}{door['road']}")
        assert 120 < door["longitude"] < 122.5 and 30.5 < door["latitude"] < 32
    for row in tables[data.POPULATION].to_pylist():
        assert row["address"][: row["address"].rindex("号") + 1] in full
