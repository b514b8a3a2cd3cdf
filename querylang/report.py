"""``querylang run … --output report.html``: one self-contained HTML page to attach to a ticket.

Per query: a heading with its name, source and window, a line chart per metric (one line
per series, a legend, the unit on the y axis, UTC time on the x axis) and the table.
Everything is inline — styles, the chart data (JSON) and the script that draws it as SVG —
and a Content-Security-Policy forbids every network resource, so the page opens the same
from a mail attachment, offline, years later. Table cells show human-readable numbers with
the exact value in their tooltip (``title``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

from querylang.charts import axis_label, charts_of
from querylang.timegrid import format_ts
from querylang.units import exact, human

__all__ = ["render_report", "result_table_html"]

_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;
max-width:1100px;padding:0 1em;color:#1d2330}
h1{font-size:1.5em;margin-bottom:.2em} h2{margin-top:2em;border-bottom:1px solid #d6dae3}
.meta{color:#5b6475} figure{margin:1em 0} figcaption{font-weight:600;margin-bottom:.3em}
svg.chart{width:100%;height:auto;background:#fbfcfe;border:1px solid #e3e6ee}
.legend{display:flex;flex-wrap:wrap;gap:.4em 1.2em;font-size:.9em;margin:.3em 0}
.legend span::before{content:'';display:inline-block;width:.9em;height:.9em;
margin-right:.35em;vertical-align:-.1em;background:var(--c)}
table.result{border-collapse:collapse;font-variant-numeric:tabular-nums;font-size:.9em}
.result th,.result td{padding:.2em .7em;border-bottom:1px solid #e8ebf1;white-space:nowrap}
.result th{text-align:left;background:#f1f3f8;position:sticky;top:0}
.result th small{display:block;font-weight:400;color:#5b6475}
.result td.num,.result th.num{text-align:right} .missing{color:#9aa1af}
.scroll{max-height:32em;overflow:auto;border:1px solid #e3e6ee}
"""

# Draws every <figure data-chart> from the JSON in its <script type="application/json">.
_SCRIPT = r"""
(function(){
const COLORS=['#2563eb','#dc2626','#16a34a','#d97706','#7c3aed','#0891b2','#db2777',
'#4b5563','#65a30d','#9333ea'];
const NS='http://www.w3.org/2000/svg';
function el(tag,attrs,text){const e=document.createElementNS(NS,tag);
 for(const k in attrs)e.setAttribute(k,attrs[k]);if(text!==undefined)e.textContent=text;return e;}
function nice(v){const p=Math.pow(10,Math.floor(Math.log10(v)));const f=v/p;
 return (f<=1?1:f<=2?2:f<=5?5:10)*p;}
function fmtTime(t,span){const d=new Date(t*1000).toISOString();
 return span>3*86400?d.slice(0,10):d.slice(5,16).replace('T',' ');}
function draw(fig){
 const spec=JSON.parse(fig.querySelector('script[type="application/json"]').textContent);
 const W=960,H=320,L=70,R=20,T=15,B=45;
 const svg=el('svg',{viewBox:`0 0 ${W} ${H}`,class:'chart',role:'img',
  'aria-label':spec.title});
 let t0=Infinity,t1=-Infinity,v1=0,v0=0;
 for(const s of spec.series){for(let i=0;i<s.t.length;i++){
  t0=Math.min(t0,s.t[i]);t1=Math.max(t1,s.t[i]);
  if(s.v[i]!==null){v1=Math.max(v1,s.v[i]);v0=Math.min(v0,s.v[i]);}}}
 if(t1<=t0){t1=t0+1;} if(v1<=v0){v1=v0+1;}
 const step=nice((v1-v0)/5);v1=Math.ceil(v1/step)*step;v0=Math.floor(v0/step)*step;
 const x=t=>L+(t-t0)/(t1-t0)*(W-L-R), y=v=>H-B-(v-v0)/(v1-v0)*(H-T-B);
 const grid=el('g',{class:'grid'});
 for(let v=v0;v<=v1+step/2;v+=step){
  grid.appendChild(el('line',{x1:L,x2:W-R,y1:y(v),y2:y(v),stroke:'#e3e6ee'}));
  grid.appendChild(el('text',{x:L-6,y:y(v)+4,'text-anchor':'end','font-size':11,
   fill:'#5b6475'},+v.toPrecision(4)+''));}
 for(let i=0;i<=5;i++){const t=t0+(t1-t0)*i/5;
  grid.appendChild(el('text',{x:x(t),y:H-B+16,
   'text-anchor':i===0?'start':i===5?'end':'middle','font-size':11,
   fill:'#5b6475'},fmtTime(t,t1-t0)));}
 grid.appendChild(el('text',{x:(L+W-R)/2,y:H-6,'text-anchor':'middle','font-size':12,
  fill:'#1d2330'},'time (UTC)'));
 grid.appendChild(el('text',{x:14,y:(T+H-B)/2,'text-anchor':'middle','font-size':12,
  fill:'#1d2330',transform:`rotate(-90 14 ${(T+H-B)/2})`},spec.axis));
 svg.appendChild(grid);
 const legend=document.createElement('div');legend.className='legend';
 spec.series.forEach((s,k)=>{const c=COLORS[k%COLORS.length];let d='';let pen=false;
  for(let i=0;i<s.t.length;i++){
   if(s.v[i]===null){pen=false;continue;}
   d+=(pen?'L':'M')+x(s.t[i]).toFixed(1)+' '+y(s.v[i]).toFixed(1);pen=true;}
  const line=el('path',{d:d,fill:'none',stroke:c,'stroke-width':2,class:'series',
   'data-label':s.label});
  if(s.t.length===1)line.setAttribute('stroke-linecap','round'),
   line.setAttribute('stroke-width',8);
  line.appendChild(el('title',{},s.label));svg.appendChild(line);
  const item=document.createElement('span');item.style.setProperty('--c',c);
  item.textContent=s.label;legend.appendChild(item);});
 fig.appendChild(svg);fig.appendChild(legend);fig.dataset.drawn=spec.series.length;
}
document.querySelectorAll('figure[data-chart]').forEach(draw);
})();
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def result_table_html(result: Any, *, limit: int | None = None) -> str:
    """The result as an HTML table: units under the headers, exact values in tooltips."""
    cols = result.columns
    head = []
    for c in cols:
        unit = f"<small>{_e(c.unit)}</small>" if c.unit and c.unit != c.name else ""
        cls = ' class="num"' if c.role == "metric" else ""
        head.append(f"<th{cls}>{_e(c.name)}{unit}</th>")
    rows = []
    total = len(result.frame)
    for n, row in enumerate(result.frame.rows()):
        if limit is not None and n >= limit:
            break
        cells = []
        for c, v in zip(cols, row, strict=True):
            if c.role == "time":
                cells.append(f"<td>{format_ts(v)}</td>")
            elif c.role == "metric":
                shown = human(v, c.unit, c.kind)
                raw = exact(v, integral=c.kind == "counter")
                cls = "num missing" if shown == "—" else "num"
                cells.append(f'<td class="{cls}" title="{_e(raw)}">{_e(shown)}</td>')
            else:
                cells.append(f"<td>{_e('—' if v is None else v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if limit is not None and total > limit:
        more = f"<p class='meta'>… and {total - limit} more rows ({total} in all)</p>"
    return (
        f"<table class='result'><thead><tr>{''.join(head)}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{more}"
    )


def _window(result: Any) -> str:
    bound = result.plan.bound
    every = f", every {bound.every}" if bound.every else ", one whole-window bucket"
    return f"[{format_ts(bound.window.start)}, {format_ts(bound.window.end)}){every}"


def _json_for_script(data: Any) -> str:
    """JSON safe inside <script>: no closing tag, no HTML comment openers."""
    text = json.dumps(data, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_report(results: Sequence[Any], *, title: str = "querylang report") -> str:
    """The whole page: a section per query with its charts and its table."""
    sections = []
    names = [r.name or r.source for r in results]
    for index, result in enumerate(results):
        name = result.name or result.source
        rows = len(result.frame)
        parts = [
            f"<section id='q{index}'><h2>{_e(name)}</h2>",
            f"<p class='meta'>FROM {_e(result.source)} {_e(_window(result))} · "
            f"{rows} row{'s' if rows != 1 else ''}</p>",
        ]
        if not rows:
            parts.append("<p><strong>No rows.</strong> The query returned no data.</p>")
        else:
            for chart in charts_of(result):
                spec = {
                    "title": chart.title,
                    "axis": axis_label(chart),
                    "series": [
                        {"label": s.label, "t": list(s.times), "v": list(s.values)}
                        for s in chart.series
                    ],
                }
                parts.append(
                    f"<figure data-chart><figcaption>{_e(chart.title)}</figcaption>"
                    f"<script type='application/json'>{_json_for_script(spec)}</script>"
                    "</figure>"
                )
            parts.append(f"<div class='scroll'>{result_table_html(result)}</div>")
        parts.append("</section>")
        sections.append("".join(parts))
    heading = _e(title if len(results) != 1 else f"{title}: {names[0]}")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{_CSP}\">"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(' · '.join(names))} — querylang</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{heading}</h1><p class='meta'>{len(results)} "
        f"quer{'ies' if len(results) != 1 else 'y'}: {_e(', '.join(names))}</p>"
        f"{''.join(sections)}<script>{_SCRIPT}</script></body></html>\n"
    )
