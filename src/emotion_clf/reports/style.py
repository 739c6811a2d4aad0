"""The site's look, shared by the index and the pages written beside it (``perf-report``'s),
so that every page of ``reports/`` reads as one site."""

SITE_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: .45rem .6rem; vertical-align: top;
         text-align: left; font-size: .92rem; }
th { background: #f4f4f4; }
code { background: #f6f6f6; padding: 0 .2rem; }
.kn { display: grid; grid-template-columns: max-content minmax(0, 26rem); gap: 0 .8rem; }
.kn span:nth-child(even) { text-align: right; font-variant-numeric: tabular-nums;
                           overflow-wrap: anywhere; }
.muted { color: #777; font-size: .85rem; }
.cards { display: flex; flex-wrap: wrap; gap: 1rem; margin-bottom: 1.5rem; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .2rem 1rem; min-width: 13rem; }
.card h3 { font-size: 1rem; margin: .6rem 0 .3rem; }
.card p { margin: .3rem 0; }
.big { font-size: 1.6rem; font-weight: 600; }
#baseline { border-top: 4px solid #3b6fd4; } #dynamic { border-top: 4px solid #2e9e57; }
table.perf { width: auto; } table.perf td, table.perf th { font-size: .85rem; }
table.perf caption { text-align: left; font-size: .8rem; color: #777; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict.bad { color: #c0392b; } .verdict.good { color: #2e9e57; }
#drift:has(.verdict.bad) { border-top: 4px solid #c0392b; }
#drift:has(.verdict.good) { border-top: 4px solid #2e9e57; }
.note { background: #fff8e1; border-left: 3px solid #f0b400; padding: .3rem .5rem;
        font-size: .85rem; max-width: 26rem; }
.same { color: #555; }
.go { margin-top: .6rem !important; font-size: .9rem; }
#over-time .figures { display: flex; flex-wrap: wrap; gap: 1rem; }
#over-time img { max-width: 100%; border: 1px solid #eee; }
"""
