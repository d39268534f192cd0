#version 450
// The live viewer's frame: conv filters as grey tiles (0.5 is zero, scaled
// by max|w|), the feature maps of sample 0 as false-colour tiles (each
// channel scaled to its own range), the loss history as a line plot, and
// lines of text in a 3×5 bitmap font. One invocation per pixel; the
// ranges come from viewer_stats.comp, run just before.
layout(local_size_x = 16, local_size_y = 16) in;

layout(set = 0, binding = 0, rgba8) uniform writeonly image2D img;
layout(std430, set = 0, binding = 1) readonly buffer Filters { float filt[]; };
layout(std430, set = 0, binding = 2) readonly buffer Maps { float maps[]; };
layout(std430, set = 0, binding = 3) readonly buffer Loss { float loss[]; };
layout(std430, set = 0, binding = 4) readonly buffer Stats { float stats[]; };
// Text: line l is text[68l .. 68l+67] = x, y, scale, n, then n character
// codes (ASCII 32..95), all as floats.
layout(std430, set = 0, binding = 5) readonly buffer Text { float text[]; };

// The push block is shared with viewer_stats.comp (one layout for both).
layout(push_constant) uniform Push {
    uint W, H;                          // image size
    uint fO, fC, fKH, fKW;              // filters shown: O×C tiles of KH×KW
    uint fCols, fCellW, fCellH, fX, fY; // filter grid: columns, cell size, origin
    uint mC, mH, mW;                    // feature maps of sample 0: C×H×W
    uint mCols, mCellW, mCellH, mX, mY; // map grid
    uint lN, lX, lY, lW, lH;            // loss history length and panel
    uint tLines;                        // lines of text
};

const uint LINE = 68u;
const uint LINE_CHARS = 64u;

// Glyphs of ASCII 32..95, 3 wide and 5 high: bit r*3+c is row r (top first), column c (left first).
const uint FONT[64] = uint[64](
    0u, 8338u, 45u, 24445u, 0u, 21157u, 0u, 18u,
    8778u, 10530u, 2728u, 1488u, 5120u, 448u, 8192u, 4772u,
    31599u, 29850u, 29671u, 31143u, 18925u, 31183u, 31695u, 9383u,
    31727u, 31215u, 1040u, 0u, 17492u, 3640u, 5393u, 8355u,
    0u, 23530u, 15083u, 25166u, 15211u, 29391u, 4815u, 27470u,
    23533u, 29847u, 11044u, 23277u, 29257u, 23549u, 23403u, 11114u,
    4843u, 26474u, 23275u, 14478u, 9367u, 31597u, 11117u, 24557u,
    23213u, 9389u, 29351u, 12875u, 0u, 26918u, 0u, 28672u);

const vec3 BACKGROUND = vec3(0.07, 0.07, 0.09);
const vec3 GAP = vec3(0.16, 0.16, 0.2);
const vec3 CURVE = vec3(1.0, 0.72, 0.15);
const vec3 GRID = vec3(0.22, 0.22, 0.27);
const vec3 FRAME = vec3(0.5, 0.5, 0.55);
const vec3 INK = vec3(0.92, 0.92, 0.92);

// ramp maps 0..1 through dark blue, teal and yellow.
vec3 ramp(float t) {
    t = clamp(t, 0.0, 1.0);
    vec3 a = vec3(0.05, 0.03, 0.35), b = vec3(0.1, 0.6, 0.55), c = vec3(0.98, 0.9, 0.15);
    return t < 0.5 ? mix(a, b, 2.0 * t) : mix(b, c, 2.0 * t - 1.0);
}

// tile finds the cell of a grid at origin (ox, oy) holding p; false if p
// is outside the first n cells or on the 1-pixel gap between cells.
bool tile(uvec2 p, uint ox, uint oy, uint cols, uint cw, uint ch, uint n, out uint idx, out vec2 frac) {
    if (n == 0u || cw < 2u || ch < 2u || p.x < ox || p.y < oy) return false;
    uint dx = p.x - ox, dy = p.y - oy;
    uint col = dx / cw, row = dy / ch;
    if (col >= cols) return false;
    idx = row * cols + col;
    if (idx >= n) return false;
    uint ix = dx % cw, iy = dy % ch;
    if (ix == cw - 1u || iy == ch - 1u) return false;
    frac = vec2(float(ix) / float(cw - 1u), float(iy) / float(ch - 1u));
    return true;
}

bool inGrid(uvec2 p, uint ox, uint oy, uint cols, uint cw, uint ch, uint n) {
    uint rows = (n + cols - 1u) / cols;
    return n > 0u && p.x >= ox && p.y >= oy && p.x < ox + cols * cw && p.y < oy + rows * ch;
}

// lossY is the pixel row of the loss curve at panel column x.
float lossY(uint x) {
    float f = float(x) * float(lN - 1u) / float(max(lW, 2u) - 1u);
    uint i = min(uint(f), lN - 1u);
    uint j = min(i + 1u, lN - 1u);
    float v = mix(loss[i], loss[j], f - float(i));
    float lo = stats[2], hi = stats[3];
    float u = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    if (isnan(u)) u = 1.0; // a NaN loss shows at the top
    u = clamp(u, 0.0, 1.0);
    return float(lY + 2u) + (1.0 - u) * float(lH - 5u);
}

bool textAt(uvec2 p) {
    for (uint l = 0u; l < tLines; l++) {
        uint b = l * LINE;
        uint x0 = uint(text[b]), y0 = uint(text[b + 1u]), s = max(uint(text[b + 2u]), 1u);
        uint n = min(uint(text[b + 3u]), LINE_CHARS);
        if (p.x < x0 || p.y < y0 || p.y >= y0 + 5u * s || p.x >= x0 + 4u * s * n) continue;
        uint dx = (p.x - x0) / s, dy = (p.y - y0) / s;
        uint ci = dx / 4u, gx = dx % 4u;
        if (gx == 3u) continue;
        uint code = uint(text[b + 4u + ci]);
        if (code < 32u || code >= 96u) continue;
        if ((FONT[code - 32u] >> (dy * 3u + gx) & 1u) != 0u) return true;
    }
    return false;
}

void main() {
    uvec2 p = gl_GlobalInvocationID.xy;
    if (p.x >= W || p.y >= H) return;
    vec3 c = BACKGROUND;
    uint idx;
    vec2 fr;
    if (inGrid(p, fX, fY, fCols, fCellW, fCellH, fO * fC)) {
        c = GAP;
        if (tile(p, fX, fY, fCols, fCellW, fCellH, fO * fC, idx, fr)) {
            uint ky = min(uint(fr.y * float(fKH)), fKH - 1u);
            uint kx = min(uint(fr.x * float(fKW)), fKW - 1u);
            float w = filt[(idx * fKH + ky) * fKW + kx]; // idx = o*C + c
            float a = stats[0];
            c = vec3(a > 0.0 ? 0.5 + 0.5 * w / a : 0.5);
        }
    } else if (inGrid(p, mX, mY, mCols, mCellW, mCellH, mC)) {
        c = GAP;
        if (tile(p, mX, mY, mCols, mCellW, mCellH, mC, idx, fr)) {
            uint y = min(uint(fr.y * float(mH)), mH - 1u);
            uint x = min(uint(fr.x * float(mW)), mW - 1u);
            float v = maps[(idx * mH + y) * mW + x];
            float lo = stats[4u + 2u * idx], hi = stats[5u + 2u * idx];
            c = ramp(hi > lo ? (v - lo) / (hi - lo) : 0.5);
        }
    } else if (lW >= 8u && lH >= 8u && p.x >= lX && p.y >= lY && p.x < lX + lW && p.y < lY + lH) {
        uint x = p.x - lX, y = p.y - lY;
        if (x == 0u || y == 0u || x == lW - 1u || y == lH - 1u) {
            c = FRAME;
        } else {
            c = vec3(0.1, 0.1, 0.12);
            if (y == lH / 4u || y == lH / 2u || y == 3u * lH / 4u) c = GRID;
            if (lN >= 1u) {
                float y0 = lossY(x), y1 = lossY(min(x + 1u, lW - 1u));
                float py = float(p.y);
                if (py >= min(y0, y1) - 1.0 && py <= max(y0, y1) + 1.0) c = CURVE;
            }
        }
    }
    if (textAt(p)) c = INK;
    imageStore(img, ivec2(p), vec4(c, 1.0));
}
