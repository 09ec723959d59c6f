"""bot/proxy.py: the nginx configuration of the production stack."""

from __future__ import annotations

import subprocess

from bot import proxy, settings


def test_rendered_nginx_config_is_valid_and_balances_both_servers(tmp_path) -> None:
    conf = settings.load(
        {"BOT_PROFILE": "production", "RASA_PORT": "15005", "BOT_RASA_BACKEND_PORTS": "15011,15012"}
    )
    path = proxy.render_nginx_conf(conf, tmp_path)
    text = path.read_text()
    assert "listen 127.0.0.1:15005;" in text
    for port in (15011, 15012):
        assert text.count(f"server 127.0.0.1:{port} max_fails=1") == 2  # REST and socket.io
    assert 'hash "$http_x_forwarded_for|$remote_addr" consistent;' in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "proxy_next_upstream error timeout" in text
    cmd = proxy.nginx_command(tmp_path)
    result = subprocess.run(
        [cmd[0], "-t", *cmd[1:-2]], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert str(tmp_path) in text and "/var/log/nginx" not in text
