"""TLS connections and read-only servers, against real ZooKeeper servers."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from waits import until_states

from aiozkreg import NotReadOnlyError, Registry, SessionState
from aiozkreg._rw_seek import serves_read_write
from aiozkreg.testing import ZooKeeperEnsemble, ZooKeeperServer
from aiozkreg.testing._process import free_ports


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _make_certificates(directory: Path) -> tuple[Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 (key and cert in one PEM)."""
    ca_key, ca = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=aiozkreg test CA", "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", str(key), "-out", str(csr))  # fmt: skip
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert))  # fmt: skip
    bundle = directory / "keystore.pem"
    bundle.write_text(key.read_text() + cert.read_text())
    return bundle, ca


@pytest.fixture(scope="module")
def tls_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ZooKeeperServer, int, Path]]:
    directory = tmp_path_factory.mktemp("tls")
    keystore, ca = _make_certificates(directory)
    (secure_port,) = free_ports(1)
    server = ZooKeeperServer(
        settings={
            "serverCnxnFactory": "org.apache.zookeeper.server.NettyServerCnxnFactory",
            "secureClientPort": secure_port,
            "ssl.keyStore.location": str(keystore),
            "ssl.keyStore.type": "PEM",
            "ssl.trustStore.location": str(ca),
            "ssl.trustStore.type": "PEM",
            "ssl.clientAuth": "none",
        }
    )
    server.start()
    yield server, secure_port, ca
    server.close()


async def test_tls_connection(tls_server: tuple[ZooKeeperServer, int, Path]) -> None:
    """With ssl=, the registry talks to ZooKeeper's TLS port, verifying its certificate."""
    _, port, ca = tls_server
    context = ssl.create_default_context(cafile=str(ca))
    async with Registry(f"127.0.0.1:{port}", ssl=context) as zk:
        await zk.create("/over-tls", b"secret", ephemeral=True)
        assert (await zk.get("/over-tls"))[0] == b"secret"
        async with zk.register("/", "tls:1"):
            assert "tls:1" in await zk.get_children("/")


async def test_read_write_probe_over_tls(tls_server: tuple[ZooKeeperServer, int, Path]) -> None:
    """The probe a read-only registry sends to find a read-write server works on the TLS
    port with the registry's context, and fails closed with an untrusting one."""
    _, port, ca = tls_server
    trusting = ssl.create_default_context(cafile=str(ca))
    assert await serves_read_write("127.0.0.1", port, ssl=trusting)
    assert not await serves_read_write("127.0.0.1", port, ssl=ssl.create_default_context())


async def test_tls_refuses_untrusted_server(tls_server: tuple[ZooKeeperServer, int, Path]) -> None:
    """A server whose certificate the context does not trust is never connected to."""
    from aiozkreg import FailedConnect

    _, port, _ = tls_server
    context = ssl.create_default_context()  # system CAs only
    with pytest.raises(FailedConnect):
        await Registry(f"127.0.0.1:{port}", ssl=context, connect_timeout=1.5).start()


@pytest.mark.slow
async def test_read_only_server_accepted_only_when_asked() -> None:
    """Without quorum, a read-only member serves read_only=True clients; writes fail clearly."""
    # A read-only server can only give new sessions when they are local sessions.
    ensemble = ZooKeeperEnsemble(
        3,
        jvm_options=["-Dreadonlymode.enabled=true"],
        settings={"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true"},
    )
    try:
        await asyncio.to_thread(ensemble.start)
        async with Registry(ensemble.connect_string) as zk:
            await zk.create("/before", b"written with quorum")
        survivor = ensemble.members[0]
        for member in ensemble.members[1:]:
            await asyncio.to_thread(member.kill)
        await asyncio.to_thread(survivor.wait_ready, 60, ("read-only",))
        async with Registry(survivor.address, read_only=True) as zk:
            assert zk.state is SessionState.CONNECTED_READ_ONLY
            assert (await zk.get("/before"))[0] == b"written with quorum"
            with pytest.raises(NotReadOnlyError):
                await zk.create("/during")
        from aiozkreg import FailedConnect

        with pytest.raises(FailedConnect):
            await Registry(survivor.address, connect_timeout=1.5).start()
    finally:
        await asyncio.to_thread(ensemble.close)


@pytest.mark.slow
async def test_read_only_session_leaves_for_a_read_write_server() -> None:
    """A read_only=True registry attached to a read-only server moves, without being dropped,
    to another server of its connect string as soon as that one answers isro with rw."""
    ensemble = ZooKeeperEnsemble(
        3,
        jvm_options=["-Dreadonlymode.enabled=true"],
        settings={"localSessionsEnabled": "true", "localSessionsUpgradingEnabled": "true"},
    )
    (port,) = free_ports(1)
    writable = ZooKeeperServer(port=port)  # started once the registry sits on the read-only one
    try:
        await asyncio.to_thread(ensemble.start)
        survivor = ensemble.members[0]
        for member in ensemble.members[1:]:
            await asyncio.to_thread(member.kill)
        await asyncio.to_thread(survivor.wait_ready, 60, ("read-only",))
        async with Registry(f"{survivor.address},{writable.address}", read_only=True) as zk:
            assert zk.state is SessionState.CONNECTED_READ_ONLY
            states = zk.states()
            assert not await serves_read_write(survivor.host, survivor.port)
            await asyncio.to_thread(writable.start)
            assert await serves_read_write(writable.host, writable.port)
            seen = await until_states(states, SessionState.CONNECTED)
            assert seen[-1].server == writable.address
            assert await zk.create("/written") == "/written"  # writes work there
            assert survivor.mode == "read-only"  # nothing dropped us: we left
    finally:
        writable.close()
        await asyncio.to_thread(ensemble.close)


async def test_isro_unanswered_is_no_read_write_server(zookeeper_server: ZooKeeperServer) -> None:
    """A port nothing listens on, or a server that does not answer isro, is no candidate."""
    (port,) = free_ports(1)
    assert not await serves_read_write("127.0.0.1", port)
    quiet = ZooKeeperServer(settings={"4lw.commands.whitelist": "srvr, conf"})
    try:
        await asyncio.to_thread(quiet.start)
        assert not await serves_read_write(quiet.host, quiet.port)
    finally:
        quiet.close()
    assert await serves_read_write(zookeeper_server.host, zookeeper_server.port)
