"""The UMP lab: a digital twin of a UMP-365 estate on loopback.

Every emulator (Entra ID, ARM, WinRM hosts, SQL Server over TDS, UMP/SBC/OVOC REST, Microsoft Graph)
reads and writes one shared :class:`umplab.world.World`. See docs/lab.md.
"""

__version__ = "0.1.0"
