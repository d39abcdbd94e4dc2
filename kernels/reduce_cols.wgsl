// One thread per output walking the reduced axis; neighbouring threads read neighbouring inner
// elements, so the loads stay contiguous.
${params}
${bindings}

struct Pair {
    v: ${T},
    i: u32,
}

fn combine(x: Pair, y: Pair) -> Pair {
    ${combine}
}

${entry}
    let o = group * ${workgroup}u + lid;
    if (o >= params.outputs) {
        return;
    }
    let base = (o / params.inner) * params.reduced * params.inner + o % params.inner;
    var p = Pair(x[base], 0u);
    // llvmpipe ends a loop after 65535 iterations: the backend keeps `reduced` below that here.
    for (var r = 1u; r < params.reduced; r++) {
        p = combine(p, Pair(x[base + r * params.inner], r));
    }
    out[o] = ${finish};
}
