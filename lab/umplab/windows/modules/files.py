"""win_file, win_find, win_copy (filled below)."""
