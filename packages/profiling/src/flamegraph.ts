// A self-contained interactive flame graph: one HTML file with the data as inert JSON and a small
// inline script that draws SVG (click to zoom, search with highlight and matched %, reset,
// tooltips with self/total). No network, no external script. Every name (function names and file
// paths are user input) reaches the page only as JSON data read with JSON.parse and drawn with
// textContent/setAttribute — never as markup.
import { frameLabel, type ProfileTree } from './tree';

export interface FlameGraphOptions {
  /** Page title. Default "CPU profile" / "Heap profile". */
  title?: string;
  /** Nodes narrower than this share of the total are merged away. Default 0.0001 (0.01 %). */
  minShare?: number;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`, no U+2028/9). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

interface FlameData {
  unit: 'ms' | 'bytes';
  /** Distinct frame labels. */
  labels: string[];
  /** Per node: [label index, parent index, self, total]; parents precede children. */
  nodes: Array<[number, number, number, number]>;
}

function flameData(tree: ProfileTree, minShare: number): FlameData {
  const cpu = tree.kind === 'cpu';
  const scale = cpu ? 1 / 1000 : 1;
  const min = tree.totalValue * minShare;
  const labels: string[] = [];
  const labelIndex = new Map<string, number>();
  const kept = new Int32Array(tree.nodes.length).fill(-1);
  const nodes: FlameData['nodes'] = [];
  tree.nodes.forEach((node, i) => {
    if (i > 0 && (kept[node.parent] < 0 || tree.totalOf(i) < min)) return;
    const label = i === 0 ? 'all' : frameLabel(node.frame);
    let l = labelIndex.get(label);
    if (l === undefined) labelIndex.set(label, (l = labels.push(label) - 1));
    kept[i] = nodes.length;
    const round = (v: number) => Math.round(v * scale * 1000) / 1000;
    nodes.push([l, i === 0 ? -1 : kept[node.parent], round(node.self), round(tree.totalOf(i))]);
  });
  return { unit: cpu ? 'ms' : 'bytes', labels, nodes };
}

export function toFlameGraphHtml(tree: ProfileTree, options: FlameGraphOptions = {}): string {
  const title = options.title ?? (tree.kind === 'cpu' ? 'CPU profile' : 'Heap profile');
  const data = flameData(tree, options.minShare ?? 0.0001);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head>
<body>
<header><h1>${escapeHtml(title)}</h1>
<input id="search" type="search" placeholder="Search functions" aria-label="Search functions">
<button id="reset" type="button">Reset zoom</button>
<span id="matched" role="status"></span></header>
<div id="details" aria-live="polite">&nbsp;</div>
<svg id="flame" xmlns="http://www.w3.org/2000/svg" width="100%" role="img" aria-label="flame graph"></svg>
<script type="application/json" id="flame-data">${scriptJson(data)}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}

const STYLE = `body{font:12px system-ui,sans-serif;margin:8px;background:#fff;color:#222}
header{display:flex;gap:8px;align-items:center}h1{font-size:16px;margin:0 12px 0 0}
#search{width:260px}#matched{font-weight:600}#details{margin:6px 0;min-height:1.3em;white-space:pre}
svg rect{stroke:#fff;stroke-width:0.5;cursor:pointer}svg text{pointer-events:none;font-size:11px}
svg .match{fill:#e040fb!important}svg .dim{opacity:.5}`;

const SCRIPT = `(function(){'use strict';
var data=JSON.parse(document.getElementById('flame-data').textContent);
var N=data.nodes.length,label=function(i){return data.labels[data.nodes[i][0]]};
var kids=[],depth=new Int32Array(N),maxDepth=0;for(var i=0;i<N;i++){kids.push([]);var p=data.nodes[i][1];
if(p>=0){kids[p].push(i);depth[i]=depth[p]+1;if(depth[i]>maxDepth)maxDepth=depth[i];}}
var W=1200,H=18,svg=document.getElementById('flame'),NS='http://www.w3.org/2000/svg';
svg.setAttribute('viewBox','0 0 '+W+' '+((maxDepth+1)*H));svg.setAttribute('height',String((maxDepth+1)*H));
var total=data.nodes[0][3]||1,zoomed=0,term='';
function fmt(v){return data.unit==='ms'?(v>=1000?(v/1000).toFixed(2)+' s':v.toFixed(2)+' ms'):(v>=1048576?(v/1048576).toFixed(2)+' MiB':v>=1024?(v/1024).toFixed(1)+' KiB':v+' B')}
function pct(v){return (100*v/total).toFixed(2)+'%'}
function color(s){var h=0;for(var k=0;k<s.length;k++)h=(h*31+s.charCodeAt(k))>>>0;
if(s.charAt(0)==='('&&s.indexOf(' (')<0)return 'hsl(0,0%,'+(70+h%10)+'%)';if(s.indexOf('node:')>=0)return 'hsl('+(90+h%40)+',55%,60%)';
if(s.indexOf('node_modules')>=0)return 'hsl('+(190+h%40)+',55%,65%)';return 'hsl('+(h%50)+',80%,'+(55+h%15)+'%)'}
function isAncestor(a,b){for(var j=b;j>=0;j=data.nodes[j][1])if(j===a)return true;return false}
function matches(i){return term!==''&&label(i).toLowerCase().indexOf(term)>=0}
function draw(){while(svg.firstChild)svg.removeChild(svg.firstChild);
var zt=data.nodes[zoomed][3]||1,scale=W/zt,x=new Float64Array(N);
for(var j=zoomed;j>=0;j=data.nodes[j][1])x[j]=0;
var order=[zoomed];for(var q=0;q<order.length;q++){var i=order[q],cx=x[i];
for(var c=0;c<kids[i].length;c++){var k=kids[i][c];x[k]=cx;cx+=data.nodes[k][3]*scale;if(data.nodes[k][3]*scale>=0.3)order.push(k)}}
var anc=[];for(var a=data.nodes[zoomed][1];a>=0;a=data.nodes[a][1])anc.push(a);order=anc.concat(order);
for(var o=0;o<order.length;o++){var n=order[o],w=anc.indexOf(n)>=0?W:data.nodes[n][3]*scale;
var g=document.createElementNS(NS,'g'),r=document.createElementNS(NS,'rect'),t=document.createElementNS(NS,'title');
r.setAttribute('x',String(anc.indexOf(n)>=0?0:x[n]));r.setAttribute('y',String(depth[n]*H));r.setAttribute('width',String(w));
r.setAttribute('height',String(H-1));r.setAttribute('fill',color(label(n)));r.setAttribute('data-node',String(n));
if(matches(n))r.setAttribute('class','match');else if(anc.indexOf(n)>=0)r.setAttribute('class','dim');
t.textContent=describe(n);g.appendChild(t);g.appendChild(r);
if(w>30){var tx=document.createElementNS(NS,'text');tx.setAttribute('x',String((anc.indexOf(n)>=0?0:x[n])+3));
tx.setAttribute('y',String(depth[n]*H+13));var chars=Math.floor((w-6)/6.5),s=label(n);
tx.textContent=s.length>chars?s.slice(0,Math.max(0,chars-1))+'\\u2026':s;g.appendChild(tx)}
svg.appendChild(g)}}
function describe(i){var d=data.nodes[i];return label(i)+'\\nself: '+fmt(d[2])+' ('+pct(d[2])+')\\ntotal: '+fmt(d[3])+' ('+pct(d[3])+')'}
function search(){term=document.getElementById('search').value.trim().toLowerCase();var sum=0;
if(term!==''){for(var i=0;i<N;i++){if(!matches(i))continue;var p=data.nodes[i][1],under=false;
for(;p>=0;p=data.nodes[p][1])if(matches(p)){under=true;break}if(!under)sum+=data.nodes[i][3]}}
document.getElementById('matched').textContent=term===''?'':'Matched: '+pct(sum);draw()}
svg.addEventListener('click',function(e){var n=e.target&&e.target.getAttribute&&e.target.getAttribute('data-node');
if(n===null||n===undefined)return;zoomed=Number(n);draw()});
svg.addEventListener('mouseover',function(e){var n=e.target&&e.target.getAttribute&&e.target.getAttribute('data-node');
if(n!==null&&n!==undefined)document.getElementById('details').textContent=describe(Number(n)).replace(/\\n/g,'  \\u00b7  ')});
document.getElementById('search').addEventListener('input',search);
document.getElementById('reset').addEventListener('click',function(){zoomed=0;document.getElementById('search').value='';search()});
window.flameGraph={zoom:function(i){zoomed=i;draw()},zoomed:function(){return zoomed},isAncestor:isAncestor};
draw()})();`;
