def test_settings_read_redis_url_from_environment(settings, redis_url):
    assert settings.redis_url == redis_url


def test_client_talks_to_a_real_server(r):
    r.set("k", "v")
    assert r.get("k") == b"v"
    assert r.info("server")["redis_version"]
