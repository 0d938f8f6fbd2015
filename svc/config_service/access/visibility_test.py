import pytest

from config_service.access.scope import ApplicationScope
from config_service.access.tokens import ANONYMOUS, Caller
from config_service.access.visibility import check_may_name, check_visible
from config_service.errors import NotFound, OutOfScope, missing
from config_service.representation import Representation

TEAM = Caller("team", "write", ApplicationScope.of(["payments-*"]))


def test_out_of_scope_raises_the_404_of_a_missing_id():
    representation = Representation("ID1", b"{}", application_name="billing")
    with pytest.raises(NotFound) as caught:
        check_visible("configuration:ID1", representation, TEAM)
    assert caught.value.detail == missing("configuration", "ID1").detail
    assert caught.value.detail == "No configuration has id ID1."


def test_in_scope_and_without_tokens_nothing_is_raised():
    check_visible("application:ID1", Representation("ID1", b"{}", "payments-api"), TEAM)
    check_visible("application:ID1", Representation("ID1", b"{}", "billing"), ANONYMOUS)


def test_naming_an_application_outside_the_scope_is_403():
    check_may_name(TEAM, "payments-api")
    with pytest.raises(OutOfScope, match="'billing'"):
        check_may_name(TEAM, "billing")


def test_out_of_scope_of_a_view_is_the_404_of_its_resource():
    representation = Representation("A1", b"{}", application_name="billing")
    with pytest.raises(NotFound) as caught:
        check_visible("application+configurations:A1", representation, TEAM)
    assert caught.value.detail == missing("application", "A1").detail
