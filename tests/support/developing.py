"""A developing story told by four wires, each adding facts, for follow and recap tests."""

from __future__ import annotations

STORY_REPORTS = (
    (
        "Bridge collapses over the Varnel river in Kostrava",
        "The Kostrava road bridge over the Varnel river collapsed on Tuesday evening, "
        "sending two lorries into the water, the Kostrava fire service said. "
        "Rescue divers from the Kostrava fire service were searching the Varnel river "
        "below the bridge late into the night. "
        "The bridge, built in 1968, carried the main road from Kostrava to the coast.",
    ),
    (
        "Kostrava bridge collapse: three drivers rescued from the Varnel",
        "Divers pulled three drivers alive from the Varnel river after the Kostrava bridge "
        "collapse, the regional governor Ilse Marrow told reporters on Wednesday. "
        "Ilse Marrow said engineers had flagged cracks in the bridge piers during an "
        "inspection last spring. "
        "The Kostrava bridge collapse closed the main road to the coast.",
    ),
    (
        "Prosecutors open inquiry into Kostrava bridge collapse",
        "State prosecutors opened a criminal inquiry into the Kostrava bridge collapse and "
        "seized maintenance records from the Varnel roads agency on Thursday. "
        "The inquiry will examine why repairs ordered after the spring inspection of the "
        "Kostrava bridge never started. "
        "Governor Ilse Marrow promised a temporary ferry across the Varnel within a week.",
    ),
    (
        "Army engineers to build temporary crossing at Kostrava",
        "Army engineers began building a pontoon crossing over the Varnel river at Kostrava "
        "on Friday, replacing the collapsed bridge until a new one is designed. "
        "The defence ministry said the Kostrava pontoon would carry cars within ten days. "
        "Lorries will be diverted through Helm for at least a year.",
    ),
)
"""(title, text) of each report, in the order the wires publish them."""
