"""The real servers the scale-out tests run against start, answer and stop."""

from __future__ import annotations

import socket
from pathlib import Path

from servers import PostgresServer, RedisServer, S3Server, start_redis


def test_redis_server_answers(redis_server: RedisServer) -> None:
    import redis

    client = redis.Redis.from_url(redis_server.url)
    assert client.ping()
    client.close()


def test_redis_restarts_on_the_same_port_without_its_data(tmp_path: Path) -> None:
    import redis

    server = start_redis(tmp_path / "redis")
    try:
        client = redis.Redis.from_url(server.url)
        client.set("key", "value")
        port = server.port
        server.restart()
        assert server.port == port
        assert client.get("key") is None  # nothing persisted: a lost queue, on purpose
        client.close()
    finally:
        server.stop()
    assert server.process is None


def test_postgres_server_makes_databases(postgres_server: PostgresServer) -> None:
    import psycopg

    url = postgres_server.create_database()
    assert url.startswith("postgresql+psycopg://")
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        (version,) = connection.execute("SHOW server_version").fetchone()
    assert int(version.split(".")[0]) >= 13


def test_s3_server_stores_objects(s3_server: S3Server) -> None:
    client = s3_server.client()
    bucket = s3_server.new_bucket_name()
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="a/b.txt", Body=b"hello")
    assert client.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read() == b"hello"
    host, port = s3_server.endpoint_url.removeprefix("http://").split(":")
    assert host == "127.0.0.1" and int(port) > 0
    socket.getaddrinfo(host, int(port))
