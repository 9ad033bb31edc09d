"""Stand-in for ansible-test's get-pip bootstrap script (its CI file host is unreachable here).

ansible-test runs this as __main__ with pip options and pinned packages (e.g. pip==24.2) as arguments.
It bootstraps pip with ensurepip and then installs what was asked from PyPI.
"""

import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], stdout=subprocess.DEVNULL)
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))
