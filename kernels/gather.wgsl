// out[i] = ${op}: one thread per output element, which gathers what it needs from its
// inputs by index arithmetic (the few ops that write elsewhere write positions that never
// repeat, so no atomics). Shapes come in params.
${params}
${bindings}

fn dim(v: array<vec4<u32>, 2>, d: u32) -> u32 {
    return v[d / 4u][d % 4u];
}
${helpers}
${entry}
    let i = group * ${workgroup}u + lid;
    if (i >= params.n) {
        return;
    }
${body}
}
