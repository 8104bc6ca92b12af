"""The QR code `2fa enroll` prints is its otpauth URI, module for module as python-qrcode (an
independent encoder) draws it with the same version and mask."""
import os
import subprocess
import tempfile
import unittest

import qrcode
from qrcode.util import MODE_8BIT_BYTE, QRData

from test_two_factor import BIN

QUIET = 4


def read_terminal_code(text):
    """Modules from the half-block lines, without the quiet zone."""
    rows = []
    for line in text.split("\n"):
        body = line.replace("\x1b[30;47m", "").replace("\x1b[0m", "")
        rows.append([c in "█▀" for c in body])
        rows.append([c in "█▄" for c in body])
    width = len(rows[0])
    rows = rows[:width]
    for row in rows[:QUIET] + rows[width - QUIET:]:
        assert not any(row), "the quiet zone must be light"
    return [row[QUIET:width - QUIET] for row in rows[QUIET:width - QUIET]]


def format_of(modules):
    """(error correction bits, mask) from the first copy of the format information."""
    places = [(i, 8) for i in range(6)] + [(7, 8), (8, 8), (8, 7)] + [(8, 14 - i) for i in range(9, 15)]
    bits = sum(1 << i for i, (r, c) in enumerate(places) if modules[r][c]) ^ 0x5412
    return bits >> 13, (bits >> 10) & 7


class QRCodes(unittest.TestCase):
    def enroll(self, issuer):
        secrets = os.path.join(tempfile.mkdtemp(), "secrets")
        result = subprocess.run([os.path.join(BIN, "meeseeks"), "2fa", "enroll", "U01SRE0001", "--secrets", secrets,
                                 "--issuer", issuer, "--qr"], capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        uri, _, code = result.stdout.rstrip("\n").partition("\n")
        return uri, read_terminal_code(code)

    def test_codes_match_python_qrcode(self):
        versions = set()
        for issuer in ["Meeseeks Box", "Meeseeks Box (staging)", "x" * 20, "Meeseeks " * 6, "Ops " * 14, "Box " * 20, "Box " * 35, "Z" * 150, "Y" * 230, "Q" * 260, "ab", "a" * 40, "b" * 100, "c" * 160, "d" * 180]:
            with self.subTest(issuer=issuer):
                uri, modules = self.enroll(issuer)
                self.assertTrue(uri.startswith("otpauth://totp/"))
                version = (len(modules) - 17) // 4
                level, mask = format_of(modules)
                self.assertEqual(level, 0, "error correction level M")
                expected = qrcode.QRCode(version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, border=0,
                                         mask_pattern=mask)
                expected.add_data(QRData(uri.encode(), mode=MODE_8BIT_BYTE))
                expected.make(fit=False)
                self.assertEqual(modules, expected.get_matrix())
                # And the version is the smallest that holds the URI, as python-qrcode would pick it.
                fitted = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
                fitted.add_data(QRData(uri.encode(), mode=MODE_8BIT_BYTE))
                fitted.make(fit=True)
                self.assertEqual(version, fitted.version)
                versions.add(version)
        self.assertEqual(versions, set(range(7, 21)))

    def test_no_code_when_not_asked_and_not_a_terminal(self):
        secrets = os.path.join(tempfile.mkdtemp(), "secrets")
        result = subprocess.run([os.path.join(BIN, "meeseeks"), "2fa", "enroll", "U01SRE0002", "--secrets", secrets],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.count("\n"), 1)


if __name__ == "__main__":
    unittest.main()
