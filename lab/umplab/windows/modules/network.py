"""win_uri, win_certificate_info, community.windows.win_firewall_rule (filled below)."""
