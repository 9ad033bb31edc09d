"""The UMP server's own programs (filled below)."""


def run(name, ex):
    return 1, "", f"{name}: not implemented\r\n"
