from config_service.process.restart_backoff import MAX_DELAY, RestartBackoff


def crash_loop(backoff: RestartBackoff, seconds: float, lived: float = 0.5) -> list:
    """Deaths of a worker that lives `lived` seconds each time, for `seconds` in all."""
    restarts, clock = [], 0.0
    while clock < seconds:
        restart = backoff.died(lived=lived)
        restarts.append(restart)
        clock += lived + restart.delay
    return restarts


def test_the_wait_doubles_from_a_fifth_of_a_second_up_to_thirty():
    delays = [restart.delay for restart in crash_loop(RestartBackoff(), 300)]
    assert delays[:10] == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0]
    assert max(delays) == MAX_DELAY


def test_a_crash_loop_logs_at_most_ten_lines_in_five_minutes():
    restarts = crash_loop(RestartBackoff(), 300)
    announced = [restart for restart in restarts if restart.announce]
    assert len(restarts) > len(announced)  # restarts at the cap are not announced again
    assert len(announced) == 9  # 0.2, 0.4, ... 25.6, then 30 once
    assert announced[-1].at_cap and not announced[-2].at_cap


def test_a_minute_of_health_starts_the_schedule_again():
    backoff = RestartBackoff()
    crash_loop(backoff, 120)
    assert backoff.died(lived=59).delay == MAX_DELAY  # not yet healthy
    again = backoff.died(lived=60)
    assert (again.delay, again.announce) == (0.2, True)
    assert backoff.died(lived=1).delay == 0.4
