"""X11 probe for the viewer test, through ctypes (no Python X modules).

  x11probe.py grab WINDOW W H OUT   writes the window's W×H pixels to OUT
                                    as raw RGB bytes, row by row
  x11probe.py escape WINDOW         focuses WINDOW and types Escape (XTest)

Needs libX11.so.6 and libXtst.so.6 (Debian: libx11-6 libxtst6) and DISPLAY.
"""
import ctypes
import ctypes.util
import sys


class XImage(ctypes.Structure):
    _fields_ = [
        ("width", ctypes.c_int), ("height", ctypes.c_int),
        ("xoffset", ctypes.c_int), ("format", ctypes.c_int),
        ("data", ctypes.POINTER(ctypes.c_ubyte)),
        ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
        ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
        ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int),
        ("bits_per_pixel", ctypes.c_int),
        ("red_mask", ctypes.c_ulong), ("green_mask", ctypes.c_ulong),
        ("blue_mask", ctypes.c_ulong),
    ]


def main():
    x11 = ctypes.CDLL("libX11.so.6")
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XGetImage.restype = ctypes.POINTER(XImage)
    x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                              ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
    x11.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XSetInputFocus.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_ulong]
    x11.XStringToKeysym.restype = ctypes.c_ulong
    x11.XStringToKeysym.argtypes = [ctypes.c_char_p]
    x11.XKeysymToKeycode.restype = ctypes.c_ubyte
    x11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
    dpy = x11.XOpenDisplay(None)
    if not dpy:
        sys.exit("x11probe: cannot open the display")
    cmd, win = sys.argv[1], int(sys.argv[2])
    if cmd == "grab":
        w, h, out = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        img = x11.XGetImage(dpy, win, 0, 0, w, h, 0xFFFFFFFF, 2)  # ZPixmap
        if not img:
            sys.exit("x11probe: XGetImage failed")
        im = img.contents
        if im.bits_per_pixel != 32 or im.byte_order != 0:
            sys.exit("x11probe: want 32-bit little-endian pixels, got %d bits, byte order %d" % (im.bits_per_pixel, im.byte_order))
        raw = ctypes.string_at(im.data, im.bytes_per_line * h)
        rgb = bytearray(w * h * 3)
        for y in range(h):
            row = raw[y * im.bytes_per_line:y * im.bytes_per_line + 4 * w]
            rgb[3 * w * y + 0:3 * w * (y + 1):3] = row[2::4]  # BGRX
            rgb[3 * w * y + 1:3 * w * (y + 1):3] = row[1::4]
            rgb[3 * w * y + 2:3 * w * (y + 1):3] = row[0::4]
        with open(out, "wb") as f:
            f.write(rgb)
    elif cmd == "escape":
        xtst = ctypes.CDLL("libXtst.so.6")
        xtst.XTestFakeKeyEvent.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_ulong]
        x11.XSetInputFocus(dpy, win, 2, 0)  # RevertToParent, CurrentTime
        code = x11.XKeysymToKeycode(dpy, x11.XStringToKeysym(b"Escape"))
        xtst.XTestFakeKeyEvent(dpy, code, 1, 0)
        xtst.XTestFakeKeyEvent(dpy, code, 0, 0)
        x11.XSync(dpy, 0)
    else:
        sys.exit("x11probe: unknown command " + cmd)
    x11.XCloseDisplay(dpy)


if __name__ == "__main__":
    main()
