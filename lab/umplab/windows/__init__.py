"""The emulated Windows hosts: WinRM, Ansible payloads, modules, the UMP server, wyUpdate."""
