#version 450
// Text of the live viewer's frame, written over viewer_draw.comp's
// result: work-group row z draws line z, one invocation per pixel of the
// line's box, storing ink where the 3×5 glyph has a set bit.
layout(local_size_x = 16, local_size_y = 16) in;

layout(set = 0, binding = 0, rgba8) uniform writeonly image2D img;
// Text: line l is text[68l .. 68l+67] = x, y, scale, n, then n character
// codes (ASCII 32..95), all as floats.
layout(std430, set = 0, binding = 5) readonly buffer Text { float text[]; };
// Glyphs of ASCII 32..95, 3 wide and 5 high, as floats of integers: bit
// r*3+c is row r (top first), column c (left first). A buffer, not a
// constant array: lavapipe copies a dynamically indexed constant array
// into every invocation, which made frames three times slower.
layout(std430, set = 0, binding = 6) readonly buffer Font { float font[64]; };

// The push block is shared with the other viewer_*.comp (one layout).
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
const vec3 INK = vec3(0.92, 0.92, 0.92);

void main() {
    uint l = gl_WorkGroupID.z;
    if (l >= tLines) return;
    uint b = l * LINE;
    uint s = max(uint(text[b + 2u]), 1u);
    uint n = min(uint(text[b + 3u]), LINE_CHARS);
    uvec2 q = gl_GlobalInvocationID.xy; // pixel within the line's box
    if (q.x >= 4u * s * n || q.y >= 5u * s) return;
    uvec2 p = uvec2(uint(text[b]), uint(text[b + 1u])) + q;
    if (p.x >= W || p.y >= H) return;
    uint dx = q.x / s, dy = q.y / s;
    uint gx = dx % 4u;
    if (gx == 3u) return; // the gap between characters
    uint code = uint(text[b + 4u + dx / 4u]);
    if (code < 32u || code >= 96u) return;
    if ((uint(font[code - 32u]) >> (dy * 3u + gx) & 1u) != 0u) {
        imageStore(img, ivec2(p), vec4(INK, 1.0));
    }
}
