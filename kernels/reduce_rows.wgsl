// One workgroup per output: threads stride over the reduced axis, then a shared-memory tree.
${params}
${bindings}

struct Pair {
    v: ${T},
    i: u32,
}

fn combine(x: Pair, y: Pair) -> Pair {
    ${combine}
}

var<workgroup> partial: array<Pair, ${workgroup}>;

${entry}
    let o = group;
    if (o >= params.outputs) {
        return;
    }
    let base = (o / params.inner) * params.reduced * params.inner + o % params.inner;
    // Seeding with element 0 is harmless for max/min/argmax; sum starts from zero.
    var p = Pair(x[base], 0u);
    ${seed}
    for (var r = lid; r < params.reduced; r += ${workgroup}u) {
        p = combine(p, Pair(x[base + r * params.inner], r));
    }
    partial[lid] = p;
    workgroupBarrier();
    for (var s = ${workgroup}u / 2u; s > 0u; s = s / 2u) {
        if (lid < s) {
            partial[lid] = combine(partial[lid], partial[lid + s]);
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        let p = partial[0];
        out[o] = ${finish};
    }
}
