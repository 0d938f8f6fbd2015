from config_service_client.identity import VALID, stable_client_id


def test_the_id_is_kept_beside_the_cache_and_survives_a_restart(tmp_path):
    first = stable_client_id(tmp_path)
    assert VALID.fullmatch(first)
    assert stable_client_id(tmp_path) == first  # the next process reads it
    assert (tmp_path / "client-id").read_text().strip() == first


def test_without_a_directory_each_process_gets_a_new_id():
    assert stable_client_id(None) != stable_client_id(None)


def test_a_malformed_kept_id_is_replaced(tmp_path):
    (tmp_path / "client-id").write_text("not valid\n")
    replaced = stable_client_id(tmp_path)
    assert VALID.fullmatch(replaced) and stable_client_id(tmp_path) == replaced
