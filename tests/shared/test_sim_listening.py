"""Whether a simulator took the ports chosen for it, read from its log
(``shared.infra.processes.sim_listening``)."""

from __future__ import annotations

from shared.infra.processes import sim_listening

LISTENING = "INFO kis_sim: KIS simulator on http://127.0.0.1:41000 rules=paper profile=current\n"


def test_starting_listening_and_a_taken_websocket() -> None:
    assert sim_listening("WARNING kis_sim: SIM_STORE=memory\n", 41000, 41001) is None
    assert sim_listening(LISTENING, 41000, 41001) is True
    taken = "ERROR kis_sim: no WebSocket: cannot listen on 127.0.0.1:41001: [Errno 98]\n"
    assert sim_listening(taken + LISTENING, 41000, 41001) is False


def test_another_start_on_other_ports_is_read_apart_from_the_first() -> None:
    first = "ERROR kis_sim: no WebSocket: cannot listen on 127.0.0.1:41001: [Errno 98]\n"
    second = LISTENING.replace("41000", "42000")
    assert sim_listening(first + LISTENING + second, 42000, 42001) is True


def test_no_websocket_asked_for() -> None:
    assert sim_listening(LISTENING, 41000, 0) is True
