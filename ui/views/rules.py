"""Principles and rules: browse and search the catalogue and the rules; the traceability graph."""

import streamlit as st
import yaml

from engine.service.display import traceability_dot
from ui.auth import current
from ui.common import pack, pretty

current()
p = pack()
cat = p.catalogue
st.title("Principles and rules")
st.caption(f"{cat.header.name} {cat.header.version} · rule pack {p.header.name} {p.header.version} "
           f"· {len(p.rules)} rules")
with st.expander("What could not be read, and how rules say so"):
    for line in cat.header.limitations:
        st.write(f"- {line}")

search = st.text_input("Search principles and rules", key="rules_search",
                       placeholder="e.g. consent, DPIA, bathroom").strip().lower()
cols = st.columns(2)
target = cols[0].selectbox("Principle or practice area", ["(all)", *cat.targets],
                           format_func=lambda t: t if t == "(all)" else f"{t} {cat.targets[t]}",
                           key="rules_target")
context = cols[1].selectbox("Context", ["(both)", "procurement", "individual_use"],
                            format_func=pretty, key="rules_context")

for tid, name in cat.targets.items():
    if target not in ("(all)", tid):
        continue
    entry = cat.principles.get(tid) or cat.areas.get(tid)
    text = " ".join([entry.summary, *(e.text for e in entry.expectations)]).lower()
    if search and search not in text and search not in name.lower():
        continue
    with st.expander(f"{tid} {name}"):
        st.write(entry.summary)
        for e in entry.expectations:
            st.markdown(f"- {e.text} *({pretty(e.provenance)})*")

rules = [r for r in p.rules.values()
         if (target == "(all)" or target in r.rule.targets)
         and (context == "(both)" or context in r.rule.context)
         and (not search or search in " ".join([r.rule.id, r.rule.title, r.rule.finding,
                                                r.rule.remedy]).lower())]
st.subheader(f"Rules ({len(rules)})")
for loaded in sorted(rules, key=lambda r: r.rule.id):
    r = loaded.rule
    with st.expander(f"{r.id} · {pretty(r.severity)} · {r.title}"):
        st.markdown(f"**Serves** {', '.join(r.targets)} · **context** {', '.join(r.context)} · "
                    f"**basis** {pretty(r.basis)}" + (f" ({r.basis_note})" if r.basis_note else ""))
        st.markdown(f"**Finding.** {r.finding}")
        st.markdown(f"**Remedy.** {r.remedy}")
        st.markdown("**Condition**")
        st.code(yaml.safe_dump(r.when, sort_keys=False), language="yaml")
        st.markdown("**Citations**")
        for c in r.citations:
            src = cat.sources.get(c.ref)
            st.markdown(f"- {cat.name_of(c.ref)}" + (f", {c.section}" if c.section else "")
                        + (f" ({src.url})" if src else ""))
        if r.crosswalk:
            st.markdown("**Also evidences** " + "; ".join(f"{k}: {', '.join(v)}"
                                                          for k, v in r.crosswalk.items()))
        st.markdown("**Cases**")
        st.dataframe([{"answers": str(c.facts), "expect": c.expect} for c in r.cases],
                     hide_index=True, width="stretch")

st.subheader("Traceability graph")
focus = target if target != "(all)" else "P2"
st.caption(f"Questions -> rules -> {focus}; choose a principle or area above to redraw.")
st.graphviz_chart(traceability_dot(p, focus), width="stretch")
