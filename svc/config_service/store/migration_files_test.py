import pytest

from config_service.store.migration_files import Migration, MigrationError, discover
from test.migration_files import write_files


def test_versioned_files_come_in_version_order_then_functions_in_name_order(tmp_path):
    write_files(
        tmp_path,
        {
            "0010_b.sql": "SELECT 10;",
            "0002_a.sql": "SELECT 2;",
            "functions/zeta.sql": "SELECT 'z';",
            "functions/alpha.sql": "SELECT 'a';",
        },
    )
    assert [m.label for m in discover(tmp_path)] == [
        "0002_a",
        "0010_b",
        "functions/alpha",
        "functions/zeta",
    ]


def test_a_label_names_the_file_and_the_checksum_its_text():
    versioned, repeatable = (
        Migration(7, "revisions", "SELECT 1;"),
        Migration(None, "f", "SELECT 1;"),
    )
    assert (versioned.label, repeatable.label) == ("0007_revisions", "functions/f")
    assert (versioned.repeatable, repeatable.repeatable) == (False, True)
    assert (
        versioned.checksum == repeatable.checksum != Migration(7, "revisions", "SELECT 2;").checksum
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_short.sql": "SELECT 1;"}, "named NNNN_lower_snake.sql"),
        ({"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"}, "version 1 is used twice"),
        ({"functions/Upper.sql": "SELECT 1;"}, "function files are named lower_snake.sql"),
    ],
)
def test_discover_rejects_misnamed_files(tmp_path, files, message):
    write_files(tmp_path, files)
    with pytest.raises(MigrationError, match=message):
        discover(tmp_path)
