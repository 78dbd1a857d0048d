/// The screen's style and script, inline: the page fetches nothing but its own server (no CDN,
/// no fonts from the internet: Noto Sans CJK from the machine).
extension ScreenPage {
    static let css = """
    *{box-sizing:border-box}html,body{margin:0;height:100%}body{font-family:"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;\
    background:#0b1a2e;color:#e6edf5;font-size:15px}header{display:flex;align-items:center;gap:24px;padding:8px 20px;background:#0f2644;\
    border-bottom:2px solid #1f4f85}h1{margin:0;font-size:24px;letter-spacing:2px;flex:1}h1 small{font-size:14px;color:#8fb3dc;margin-left:12px;\
    letter-spacing:0}#clock{font-size:20px;font-variant-numeric:tabular-nums;color:#ffd27a}.search input{background:#0b1a2e;border:1px solid #2c5b91;\
    color:#e6edf5;padding:5px 8px;width:220px}.search button{background:#1f4f85;color:#fff;border:0;padding:6px 12px}\
    main{display:grid;gap:10px;padding:10px;grid-template-columns:minmax(0,1.2fr) minmax(0,1fr) minmax(0,0.75fr);\
    grid-template-areas:"kpis kpis kpis" "map overdue feed" "map whistle feed" "league intake feed" "league petition feed"}\
    @media (min-width:1400px) and (min-height:900px){main{height:calc(100vh - 54px);\
    grid-template-rows:72px minmax(0,1.35fr) minmax(0,1fr) minmax(0,0.72fr) minmax(0,0.72fr)}}\
    #panels{display:contents}section{background:#102a4a;border:1px solid #1f4f85;border-radius:6px;padding:10px 14px;min-width:0;overflow:hidden}\
    h2{margin:0 0 8px;font-size:17px;color:#9cd0ff}h2 small{font-size:12px;color:#7d9bbd;font-weight:normal;margin-left:8px}\
    .kpis{grid-area:kpis;display:flex;gap:12px;background:none;border:0;padding:0}.kpi{flex:1;background:#102a4a;border:1px solid #1f4f85;\
    border-radius:6px;padding:8px 16px;display:flex;align-items:baseline;gap:12px}.kpi b{font-size:38px;font-variant-numeric:tabular-nums;color:#7fd1ff}\
    .kpi.alarm b{color:#ff7a6b}.map-box{grid-area:map}.overdue-box{grid-area:overdue;overflow:auto}.whistle-box{grid-area:whistle;overflow:auto}\
    #feed-box{grid-area:feed}.league-box{grid-area:league}.intake-box{grid-area:intake}.petition-box{grid-area:petition}\
    .health-box{flex:1.2;background:#102a4a;border:1px solid #1f4f85;border-radius:6px;padding:8px 14px;display:flex;align-items:center}\
    .health-box p{margin:0}.health-box small{display:block;color:#7d9bbd;font-size:12px}.map-box{display:flex;flex-direction:column}\
    svg.map{width:100%;flex:1;min-height:0}.nowrap{white-space:nowrap}td small{display:block;color:#7d9bbd;font-size:12px}.street{stroke:#0b1a2e;stroke-width:2}.late-edge{fill:none;stroke:#ff4d3d;stroke-width:4}\
    .dedicated{fill:none;stroke:#ffa630;stroke-width:3;stroke-dasharray:10 6}svg text{text-anchor:middle;paint-order:stroke;stroke:#0b1a2e;\
    stroke-width:4px;fill:#fff}svg .name{font-size:21px}svg .count{font-size:24px;font-weight:700}svg text.late{fill:#ffd0ca;font-size:19px;font-weight:700}\
    .legend{margin:4px 0 0;color:#8fb3dc;font-size:13px;display:flex;gap:16px}table{width:100%;border-collapse:collapse;font-size:14px}\
    th{color:#8fb3dc;font-weight:normal;text-align:left;border-bottom:1px solid #1f4f85;padding:4px 6px}td{padding:4px 6px;border-bottom:1px solid #17375f}\
    a{color:#7fd1ff;text-decoration:none}.alarm{color:#ff7a6b}.ok{color:#6ee7a8}.muted{color:#7d9bbd}.rung{padding:1px 8px;border-radius:10px;font-size:13px}\
    .rung.r1{background:#7a5b12}.rung.r2{background:#a8461b}.rung.r3{background:#b42318}.tag{border:1px solid #ffa630;color:#ffa630;border-radius:3px;\
    padding:0 4px;font-size:12px}.whistle{border-left:3px solid #ffa630;padding:2px 10px;margin-bottom:8px}.whistle p{margin:0 0 4px}\
    .whistle ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:6px 16px}.on-site b{color:#6ee7a8}.waiting,.en-route{color:#ffd27a}\
    .countdown{font-variant-numeric:tabular-nums}.countdown.over{color:#ff7a6b}.bars{list-style:none;margin:0;padding:0;display:grid;grid-template-columns:1fr 1fr;\
    gap:2px 18px}.bars li{display:grid;grid-template-columns:5.5em 1fr 2.5em;align-items:center;gap:6px}.bars i{display:block;height:12px;background:#2f80d0;border-radius:2px;\
    min-width:2px}.bars b{text-align:right;font-variant-numeric:tabular-nums}.figures{display:grid;grid-template-columns:repeat(3,1fr);gap:6px;margin:0}\
    .figures div{background:#0b1a2e;border-radius:4px;padding:2px 8px}.figures dt{font-size:12px;color:#8fb3dc}.figures dd{margin:0;font-size:17px;line-height:1.2}.petition-box p{margin:0 0 4px}\
    #feed-box{display:flex;flex-direction:column}#feed{list-style:none;margin:0;padding:0;font-size:14px;overflow:hidden;flex:1}#feed li{padding:4px 0;border-bottom:1px solid #17375f;display:flex;gap:8px}\
    #feed time{color:#7d9bbd;font-variant-numeric:tabular-nums}#feed b{color:#ffd27a;white-space:nowrap}#feed span{color:#c7d6e6;overflow:hidden;\
    text-overflow:ellipsis;white-space:nowrap}#feed li.new{animation:flash 2s}@keyframes flash{from{background:#1f4f85}to{background:none}}\
    #live.on{color:#6ee7a8}#live.off{color:#ff7a6b}.who{color:#8fb3dc}.who form{display:inline}\
    .who button{background:none;border:0;color:#7fd1ff;cursor:pointer;font-size:14px}\
    @media (max-width:1400px){main{grid-template-columns:1fr 1fr;grid-template-areas:"kpis kpis" "map map" "overdue feed" "whistle feed" \
    "league league" "intake petition"}.kpis{flex-wrap:wrap}#feed{max-height:600px}}
    """

    /// The feed from server-sent events (the browser resends Last-Event-ID on a reconnect, and
    /// the server replays what it missed); the panels fetched again a moment after each event
    /// and every 30 s (overdue grows with time); countdowns and the clock ticked every second.
    static let script = """
    (function(){
    const feed=document.getElementById('feed'),live=document.getElementById('live'),panels=document.getElementById('panels');
    const clock=document.getElementById('clock');const skew=Number(clock.dataset.now)-Date.now();
    let timer=null;
    function refresh(){timer=null;fetch('/screen/panels',{cache:'no-store'}).then(r=>r.ok?r.text():Promise.reject(r.status))
      .then(html=>{panels.innerHTML=html;tick();}).catch(()=>{});}
    function soon(){if(!timer)timer=setTimeout(refresh,700);}
    function pad(n){return String(n).padStart(2,'0');}
    function tick(){const now=new Date(Date.now()+skew);
      const bj=new Date(now.getTime()+8*3600e3);
      clock.textContent=bj.getUTCFullYear()+'-'+pad(bj.getUTCMonth()+1)+'-'+pad(bj.getUTCDate())+' '+pad(bj.getUTCHours())+':'+pad(bj.getUTCMinutes())+':'+pad(bj.getUTCSeconds());
      document.querySelectorAll('.countdown').forEach(el=>{const left=Math.round((Number(el.dataset.deadline)-now.getTime())/1000);
        const a=Math.abs(left);const t=(a>=3600?Math.floor(a/3600)+':'+pad(Math.floor(a%3600/60)):Math.floor(a/60))+':'+pad(a%60);
        el.textContent=left>=0?'剩 '+t:'超时 '+t;el.classList.toggle('over',left<0);});}
    const es=new EventSource('/events');
    es.onopen=()=>{live.textContent='实时';live.className='on';};
    es.onerror=()=>{live.textContent='重连中…';live.className='off';};
    es.addEventListener('muster',m=>{const e=JSON.parse(m.data);
      if(feed.querySelector('li[data-seq="'+e.seq+'"]'))return;
      const li=document.createElement('li');li.dataset.seq=e.seq;li.dataset.type=e.type;li.className='new';
      const t=document.createElement('time');t.textContent=(e.at||'').slice(11,16);
      const b=document.createElement('b');b.textContent=e.label;
      let s;if(e.subject&&e.subject[0]==='C'){s=document.createElement('a');s.href='/case/'+encodeURIComponent(e.subject);}else{s=document.createElement('i');}
      s.textContent=e.subject||'';const w=document.createElement('span');w.textContent=e.text||'';
      li.append(t,b,s,w);feed.prepend(li);while(feed.children.length>60)feed.lastChild.remove();soon();});
    es.addEventListener('gap',()=>soon());
    setInterval(tick,1000);setInterval(refresh,30000);tick();
    })();
    """
}
