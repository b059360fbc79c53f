"""The local Salesforce's SOQL: parsed and evaluated like the real API, refusals included."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd_salesforce.fake_org import Org
from syncd_salesforce.fake_query import Compiler
from syncd_salesforce.fake_schema import build_schema
from syncd_salesforce.records import select
from syncd_salesforce.soql import SoqlError, parse, soql_literal


def small_org() -> Org:
    org = Org(build_schema(lead_statuses=("Open", "Unqualified")))
    with org.clock_at(datetime(2024, 5, 1, 12, tzinfo=UTC)):
        acme = org.insert("Account", {"Name": "Acme", "Industry": "Retail"})
        org.insert("Account", {"Name": "O'Brien & Sons", "NumberOfEmployees": 12})
    for i, (stage, amount) in enumerate(
        [("Proposal", 100.0), ("Closed Lost", None), ("Closed Won", 300.0), ("Closed Lost", 50.0)]
    ):
        with org.clock_at(datetime(2024, 5, 2 + i, tzinfo=UTC)):
            org.insert(
                "Opportunity",
                {
                    "Name": f"Deal {i}",
                    "AccountId": acme if i % 2 else None,
                    "StageName": stage,
                    "CloseDate": f"2024-06-0{i + 1}",
                    "Amount": amount,
                },
            )
    return org


def names(org: Org, soql: str) -> list[str]:
    result = Compiler(org).execute(soql)
    return [r["Name"] for r in result.records]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("IsClosed = true AND IsWon = false", ["Deal 1", "Deal 3"]),
        ("IsWon = true OR Amount < 60", ["Deal 2", "Deal 3"]),
        ("NOT (IsClosed = true)", ["Deal 0"]),
        ("Amount = null", ["Deal 1"]),
        ("Amount != null AND (Amount >= 100 OR Name LIKE '%3')", ["Deal 0", "Deal 2", "Deal 3"]),
        ("StageName IN ('Proposal', 'closed won')", ["Deal 0", "Deal 2"]),
        ("StageName NOT IN ('Closed Lost')", ["Deal 0", "Deal 2"]),
        ("CloseDate > 2024-06-02", ["Deal 2", "Deal 3"]),
        (
            "SystemModstamp >= 2024-05-03T00:00:00Z AND SystemModstamp < 2024-05-05T00:00:00.000Z",
            ["Deal 1", "Deal 2"],
        ),
        ("Account.Industry = 'Retail'", ["Deal 1", "Deal 3"]),
        ("AccountId IN (SELECT Id FROM Account WHERE Name = 'Acme')", ["Deal 1", "Deal 3"]),
        ("Name LIKE 'deal _'", ["Deal 0", "Deal 1", "Deal 2", "Deal 3"]),
    ],
)
def test_where_clauses_select_what_salesforce_would(where: str, expected: list[str]) -> None:
    """Comparisons, IN, LIKE, null, booleans, dates, datetimes, relationships, semi-joins."""
    soql = f"SELECT Name FROM Opportunity WHERE {where} ORDER BY Name"  # noqa: S608 - SOQL input
    assert names(small_org(), soql) == expected


def test_order_by_with_nulls_limit_and_offset() -> None:
    """DESC puts nulls last by default, NULLS FIRST overrides it; LIMIT and OFFSET page."""
    org = small_org()
    assert names(org, "SELECT Name FROM Opportunity ORDER BY Amount DESC") == [
        "Deal 2",
        "Deal 0",
        "Deal 3",
        "Deal 1",
    ]
    assert names(org, "SELECT Name FROM Opportunity ORDER BY Amount DESC NULLS FIRST LIMIT 2") == [
        "Deal 1",
        "Deal 2",
    ]
    assert names(org, "SELECT Name FROM Opportunity ORDER BY Name LIMIT 2 OFFSET 1") == [
        "Deal 1",
        "Deal 2",
    ]


def test_sub_queries_and_relationship_fields_render_nested() -> None:
    """Parent fields nest under the relationship name; child rows under the sub-query's."""
    org = small_org()
    result = Compiler(org).execute(
        "SELECT Name, Account.Name, (SELECT StageName FROM OpportunityHistories) "
        "FROM Opportunity WHERE Name IN ('Deal 0', 'Deal 1') ORDER BY Name"
    )
    first, second = (result.render(r) for r in result.records)
    assert first["Account"] is None and second["Account"]["Name"] == "Acme"
    assert second["Account"]["attributes"]["type"] == "Account"
    assert first["OpportunityHistories"]["records"][0]["StageName"] == "Proposal"


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        (
            "SELECT Id FROM Opportunity WHERE IsWon = true AND IsClosed = true OR Amount > 1",
            "MALFORMED_QUERY",
        ),
        ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY"),
        ("SELECT Id, Nope__c FROM Opportunity", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE SystemModstamp > '2024-01-01'", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE Amount > '5'", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE Description LIKE '%x%'", "INVALID_FIELD"),
        ("SELECT Id, Owner.Nope FROM Opportunity", "INVALID_FIELD"),
        ("SELECT Id FROM Widget__c", "INVALID_TYPE"),
        ("SELECT Id, (SELECT Id FROM Nope) FROM Account", "INVALID_TYPE"),
    ],
)
def test_queries_the_api_refuses_are_refused(soql: str, code: str) -> None:
    """AND/OR without parentheses, unknown fields, quoted datetimes, long text filters."""
    with pytest.raises(SoqlError) as raised:
        Compiler(small_org()).execute(soql)
    assert raised.value.code == code


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30))
def test_string_literals_round_trip(text: str) -> None:
    """Any string, quotes and backslashes included, survives rendering and parsing."""
    query = parse(f"SELECT Id FROM Account WHERE Name = {soql_literal(text)}")  # noqa: S608
    assert query.where is not None and query.where.value == text  # type: ignore[union-attr]


@settings(max_examples=40, deadline=None)
@given(
    amounts=st.lists(st.one_of(st.none(), st.integers(-1000, 1000)), max_size=12),
    op=st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
    bound=st.integers(-1000, 1000),
)
def test_numeric_filters_agree_with_a_plain_python_filter(
    amounts: list[int | None], op: str, bound: int
) -> None:
    """The evaluator's comparison semantics, nulls included, match the obvious definition."""
    org = Org(build_schema(lead_statuses=("Open",)))
    for i, amount in enumerate(amounts):
        org.insert(
            "Opportunity",
            {
                "Name": f"D{i}",
                "StageName": "Proposal",
                "CloseDate": date(2024, 1, 1).isoformat(),
                "Amount": amount,
            },
        )
    checks = {
        "=": lambda a: a == bound,
        "!=": lambda a: a != bound,
        "<": lambda a: a < bound,
        "<=": lambda a: a <= bound,
        ">": lambda a: a > bound,
        ">=": lambda a: a >= bound,
    }
    expected = {
        f"D{i}"
        for i, a in enumerate(amounts)
        if (a is not None and checks[op](a)) or (a is None and op == "!=")
    }
    soql = f"SELECT Name FROM Opportunity WHERE Amount {op} {bound}"  # noqa: S608 - SOQL input
    assert set(names(org, soql)) == expected


@settings(max_examples=25, deadline=None)
@given(
    moves=st.lists(
        st.tuples(st.integers(0, 7), st.sampled_from(["a", "b", "none", "delete"])), max_size=8
    ),
    wanted=st.lists(st.sampled_from(["a", "b", "15"]), min_size=1, max_size=3),
)
def test_lookup_in_lists_answer_as_a_table_scan_does(
    moves: list[tuple[int, str]], wanted: list[str]
) -> None:
    """`AccountId IN (...)` and `Id IN (...)` use the fake's indexes: after any mix of moves
    between accounts and deletions, they find exactly the rows, in the order, that the same
    condition finds when nothing can be indexed (inside an OR)."""
    org = Org(build_schema(lead_statuses=("Open",)))
    accounts = {
        "a": org.insert("Account", {"Name": "A"}),
        "b": org.insert("Account", {"Name": "B"}),
    }
    people = [
        org.insert("Contact", {"LastName": f"P{i}", "AccountId": accounts["ab"[i % 2]]})
        for i in range(8)
    ]
    query = Compiler(org)
    deleted: set[int] = set()
    for n, move in moves:
        if n in deleted:
            continue
        if move == "delete":
            org.delete("Contact", people[n])
            deleted.add(n)
        else:
            org.update("Contact", people[n], {"AccountId": accounts.get(move)})
        ids = [accounts[w] if w in accounts else accounts["a"][:15] for w in wanted]
        listed = ", ".join(soql_literal(i) for i in ids)
        for field, values in (("AccountId", listed), ("Id", soql_literal(people[n]))):
            condition = f"{field} IN ({values})"
            indexed = query.execute(select(["Id"], "Contact", [condition]))
            scanned = query.execute(
                select(["Id"], "Contact", [f"({condition} OR LastName = 'nobody')"])
            )
            assert [r["Id"] for r in indexed.records] == [r["Id"] for r in scanned.records]
