import resource
import socket

import pytest

from config_service.process import SERVER_LOGGER
from config_service.process.serving import (
    FILES_BESIDES_WAITERS,
    listening_socket,
    raise_open_files_limit,
)
from conftest import make_settings


@pytest.mark.parametrize("reuse_port", [True, False])
def test_so_reuseport_is_set_only_when_asked(reuse_port):
    sock = listening_socket("127.0.0.1", 0, reuse_port=reuse_port)
    try:
        assert bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT)) is reuse_port
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    finally:
        sock.close()


def test_two_reuseport_sockets_share_a_port_but_a_plain_one_is_refused():
    first = listening_socket("127.0.0.1", 0, reuse_port=True)
    port = first.getsockname()[1]
    try:
        listening_socket("127.0.0.1", port, reuse_port=True).close()
        with pytest.raises(OSError):
            listening_socket("127.0.0.1", port)
    finally:
        first.close()


def test_a_socket_told_not_to_listen_is_bound_but_not_listening():
    sock = listening_socket("127.0.0.1", 0, listen=False)
    try:
        assert sock.getsockname()[1] != 0
        assert not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    finally:
        sock.close()


def test_an_ipv6_host_gets_an_ipv6_socket():
    sock = listening_socket("::1", 0)
    try:
        assert sock.family == socket.AF_INET6
    finally:
        sock.close()


def test_an_open_files_limit_already_enough_is_left_alone(caplog):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    enough = FILES_BESIDES_WAITERS + 10
    caplog.set_level("INFO", logger=SERVER_LOGGER)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (enough, hard))
        raise_open_files_limit(make_settings("postgresql://unused/x", max_waiters=10))
        after = resource.getrlimit(resource.RLIMIT_NOFILE)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert after == (enough, hard)
    assert "open files" not in caplog.text


def test_a_hard_limit_below_the_need_is_reached_and_warned_about(caplog):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard != resource.RLIM_INFINITY
    caplog.set_level("INFO", logger=SERVER_LOGGER)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        raise_open_files_limit(make_settings("postgresql://unused/x", max_waiters=hard))
        raised = resource.getrlimit(resource.RLIMIT_NOFILE)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert raised == (hard, hard)
    assert f"open files limited to {hard} (hard limit)" in caplog.text
    assert f"MAX_WAITERS={hard} needs" in caplog.text


def test_the_open_files_limit_is_raised_for_max_waiters(monkeypatch, caplog):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    caplog.set_level("INFO", logger=SERVER_LOGGER)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        raise_open_files_limit(make_settings("postgresql://unused/x", max_waiters=2000))
        raised = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert raised == min(2000 + FILES_BESIDES_WAITERS, hard)
    assert "raised the open files limit from 256" in caplog.text
