"""The bus survives a broker that goes away and comes back, and never queues without bound."""

from __future__ import annotations

import logging
import threading

import pytest
from pioreactor.kernel.bus import BrokerSettings, Bus, Message
from pioreactor.sdk.testing import Broker, MqttProbe, free_port, start_broker


def test_queue_is_bounded_while_the_broker_is_unreachable(caplog: pytest.LogCaptureFixture) -> None:
    settings = BrokerSettings(host="127.0.0.1", port=free_port(), max_queued=100)
    bus = Bus("queue-test", settings=settings)
    with caplog.at_level(logging.WARNING, logger="pioreactor.bus"):
        assert bus.connect(timeout=0.2) is False
        for i in range(150):
            bus.publish("pioreactor/u/e/job/x", str(i))
    assert bus.queued == 100
    messages = [r.getMessage() for r in caplog.records]
    assert any("keeping up to 100 messages" in m for m in messages)
    assert any("Cannot reach the MQTT broker at 127.0.0.1" in m for m in messages)
    bus.close()


def test_queued_messages_are_delivered_once_the_broker_is_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    broker = Broker("127.0.0.1", port, config)
    bus = Bus("late-broker", settings=BrokerSettings(host="127.0.0.1", port=port))
    bus.connect(timeout=0.1)
    for i in range(5):
        bus.publish("pioreactor/u/e/job/late", str(i), qos=1, retain=True)
    broker.start()
    try:
        probe = MqttProbe(broker, "pioreactor/#")
        assert probe.wait_for("pioreactor/u/e/job/late", "4", timeout=15)
        probe.close()
    finally:
        bus.close()
        broker.stop()


def test_jobs_resubscribe_and_republish_after_a_broker_restart(tmp_path, run_job, pio_home) -> None:  # type: ignore[no-untyped-def]
    broker = start_broker(tmp_path / "own-broker")  # this test restarts its broker; others keep theirs
    pio_home.broker = broker
    pio_home.write_config()
    try:
        probe = MqttProbe(broker)
        job = run_job("stirring", run_options=("--config-override", "simulation", "clock_speed", "20"))
        job.wait_for_state(probe, "ready")
        probe.close()

        broker.restart()  # no persistence: every retained value is gone
        probe = MqttProbe(broker)
        # the job republishes its retained state once it is back
        job.wait_for_state(probe, "ready", timeout=15)
        probe.wait_for(pio_home.topic("stirring", "target_rpm"), "500.0", timeout=15)
        # and still listens for /set
        mark = probe.mark()
        probe.publish(pio_home.topic("stirring", "target_rpm", "set"), "321")
        probe.wait_for(pio_home.topic("stirring", "target_rpm"), "321.0", since=mark)
        assert job.stop() == 0
        probe.close()
    finally:
        broker.stop()


def test_callbacks_get_messages_and_errors_do_not_kill_the_bus(mosquitto_broker) -> None:  # type: ignore[no-untyped-def]
    settings = BrokerSettings(host=mosquitto_broker.host, port=mosquitto_broker.port)
    bus = Bus("callback-test", settings=settings)
    got = threading.Event()

    def broken(message: Message) -> None:
        raise RuntimeError("a bad callback")

    def good(message: Message) -> None:
        if message.text() == "ping":
            got.set()

    bus.subscribe("pioreactor/callback-test/#", broken)
    bus.subscribe("pioreactor/callback-test/#", good)
    assert bus.connect()
    bus.publish("pioreactor/callback-test/x", "ping", qos=1)
    assert got.wait(5)
    bus.close()
