"""schemathesis against the running API process, from its own ``/openapi.json``: no 5xx."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance

from services.api import openapi
from tests.api.conftest import TOKEN, RunningApi, kis_host, start_api, stop_api
from tests.conftest import RedisServer

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 15
"""Generated requests per operation and phase: enough to find a 500, quick enough for CI."""
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CASES: list[tuple[str, int]] = []
"""Every generated request's operation and the status it got, for the summary test."""


@pytest.fixture(scope="module")
def api(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningApi]:
    # A stand-in KIS host, so /readyz is 200 and any 5xx is a real failure.
    with kis_host() as kis_url:
        running = start_api(
            redis_server,
            3,
            tmp_path_factory.mktemp("api-fuzz"),
            STATUS_API_TOKEN=TOKEN,
            KIS_BASE_URL=kis_url,
            # Schemathesis tries wrong tokens on purpose, many times: no throttling here.
            STATUS_API_FAILURE_LIMIT="100000",
        )
        yield running
        stop_api(running)


# Loaded at import from the document the app serves, not through schemathesis.pytest.from_fixture:
# schemathesis 4.32.5's lazy loader reads request.node._nodeid, which pytest 9 no longer has.
# test_the_fuzzed_document_is_the_served_one checks the server answers this very document.
schema = schemathesis.openapi.from_dict(openapi.document())


def test_the_fuzzed_document_is_the_served_one(api: RunningApi) -> None:
    served = requests.get(f"{api.url}/openapi.json", timeout=5).json()
    assert served == json.loads(json.dumps(openapi.document()))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(case: Case, api: RunningApi) -> None:
    excluded = []
    if case.operation.path == "/control/picks/{date}":
        # The schema does not say "keys are 6-digit codes" (flask-openapi3's schema objects
        # drop propertyNames): schema-valid picks are often refused with a 422 listing the
        # problems, rightly.
        excluded.append(positive_data_acceptance)
    if case.operation.path == "/control/limits" and case.method == "PUT":
        # JSON Schema 2020-12 (OpenAPI 3.1) counts 5208.0 as an integer; the API, like the
        # CLI, takes a limit only as a whole number written as one (or in digits), so such
        # a schema-valid body is refused with a 422 naming the limit, rightly.
        excluded.append(positive_data_acceptance)
    if case.operation.path.startswith(("/performance", "/history")):
        # A schema cannot say "from is not after to": a reversed range is refused with a 400
        # that says so, rightly (docs/ARCHITECTURE.md, 'Track record').
        excluded.append(positive_data_acceptance)
    response = case.call_and_validate(base_url=api.url, headers=AUTH, excluded_checks=excluded)
    CASES.append((case.operation.label, response.status_code))
    assert response.status_code < 500


def test_fuzzing_covered_every_operation(api: RunningApi) -> None:
    statuses = Counter(status for _label, status in CASES)
    print(f"\nschemathesis: {len(CASES)} requests, statuses {dict(sorted(statuses.items()))}")
    documented = {op.ok().label for op in schema.get_all_operations()}
    assert {label for label, _status in CASES} == documented
    assert len(CASES) > 10 * len(documented)
    assert all(status < 500 for status in statuses)
    output = api.service.output()
    assert "Traceback" not in output, output[-3000:]
