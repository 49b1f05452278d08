/* cb-node-page.c: cloud:node rendered from the node's status, pushed live */
#define G_LOG_DOMAIN "cb-node-page"

#include "cb-node-page.h"

struct _CbNodePage
{
  GObject        parent_instance;

  CbNode        *node;
  char          *start_error;
  GPtrArray     *views;       /* WebKitWebView*, weak: views that loaded the page */
};

G_DEFINE_FINAL_TYPE (CbNodePage, cb_node_page, G_TYPE_OBJECT)

/* The status as a JSON text safe inside <script> and in a JS expression:
 * peer addresses come from the network, so "<" never appears raw. */
static char *
status_json (CbNodePage *self)
{
  g_autoptr(JsonNode) status = NULL;
  g_autofree char *text = NULL;
  GString *safe;

  if (self->node != NULL)
    status = cb_node_get_status (self->node);
  else
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, self->start_error ? self->start_error
                                                                : "the node is not running");
      json_builder_end_object (builder);
      status = json_builder_get_root (builder);
    }
  text = json_to_string (status, FALSE);
  safe = g_string_sized_new (strlen (text) + 16);
  for (const char *p = text; *p; p++)
    {
      if (*p == '<')
        g_string_append (safe, "\\u003c");
      else if (*p == '>')
        g_string_append (safe, "\\u003e");
      else if (*p == '&')
        g_string_append (safe, "\\u0026");
      else
        g_string_append_c (safe, *p);
    }
  return g_string_free (safe, FALSE);
}

static const char page_style[] =
  "body{font-family:system-ui,sans-serif;max-width:60em;margin:5vh auto;padding:0 2em;"
  "line-height:1.5}"
  "h1{font-size:1.8em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em}"
  "dl{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1.2em}"
  "dt{opacity:.7}dd{margin:0}"
  ".mono{font-family:monospace;word-break:break-all}"
  "table{border-collapse:collapse;width:100%}"
  "th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid rgba(127,127,127,.25)}"
  "th{font-weight:600;opacity:.8}"
  ".badge{display:inline-block;padding:0 .55em;border-radius:1em;font-size:.85em;"
  "background:rgba(127,127,127,.18);margin-right:.3em}"
  ".alive{background:#2ec27e33;color:#26a269}.suspect{background:#f6d32d44;color:#9c6e03}"
  ".dead{background:#e01b2433;color:#c01c28}.left{background:rgba(127,127,127,.25)}"
  ".ok{color:#26a269}.error{color:#c01c28}.empty{opacity:.7}"
  ".system{border:1px solid rgba(127,127,127,.3);border-radius:.6em;padding:.2em 1em 1em;"
  "margin:1em 0}"
  ".lag{display:grid;grid-template-columns:12em 1fr 5em;gap:.25em .8em;align-items:center}"
  ".bar{height:.8em;border-radius:.4em;background:#3584e4;min-width:2px}"
  ".bar.zero{background:#2ec27e}"
  ".sets{display:flex;flex-wrap:wrap;gap:3px;margin:.4em 0}"
  ".cell{width:14px;height:14px;border-radius:3px;background:rgba(127,127,127,.25)}"
  ".cell.own{background:#3584e4}";

/* Every string from the status goes through textContent: never HTML. */
static const char page_script[] =
  "function el(tag, text, cls){const e=document.createElement(tag);"
  "if(text!==undefined&&text!==null)e.textContent=String(text);if(cls)e.className=cls;return e;}"
  "function badges(list){const s=el('span');(list||[]).forEach(r=>s.append(el('span',r,'badge')));"
  "if(!list||!list.length)s.append(el('span','none','empty'));return s;}"
  "function ago(s){if(s<60)return s+' s';if(s<3600)return Math.floor(s/60)+' min';"
  "if(s<86400)return Math.floor(s/3600)+' h';return Math.floor(s/86400)+' d';}"
  "function render(st){"
  " const root=document.getElementById('node');root.replaceChildren();"
  " if(st.error){root.append(el('p','The cloud node is not running: '+st.error,'error'));return;}"
  " const dl=el('dl');"
  " const row=(k,v)=>{dl.append(el('dt',k));const d=el('dd');"
  "  if(v instanceof Node)d.append(v);else d.textContent=v;dl.append(d);return d;};"
  " row('Node id',st.id).className='mono';"
  " row('Cloud',st.cloud);"
  " row('Listening on',st.listen);"
  " row('Reachable at',st.advertise);"
  " row('Roles',badges(st.roles));"
  " row('Peers alive',String(st.alive||0));"
  " root.append(dl);"
  " root.append(el('h2','Lists'));"
  " const lists=el('ul');(st.lists||[]).forEach(l=>{const li=el('li');"
  "  li.append(el('span',l.state==='ok'?'✓ ':(l.state==='error'?'✗ ':'… '),l.state));"
  "  li.append(el('span',l.url,'mono'));"
  "  if(l.state==='ok')li.append(el('span',' — version '+l.version));"
  "  if(l.error)li.append(el('div',l.error+' (retrying in '+l.retry_in_seconds+' s)','error'));"
  "  if(l.publish_error)li.append(el('div','Publishing failed: '+l.publish_error,'error'));"
  "  lists.append(li);});"
  " root.append(lists);"
  " root.append(el('h2','Peers'));"
  " const peers=st.peers||[];"
  " if(!peers.length)root.append(el('p','No peers yet: this node is looking for the cloud "
  "through its lists.','empty'));"
  " else renderPeers(root,peers);"
  " renderSystems(root,st);"
  "}"
  "function renderPeers(root,peers){"
  " const t=el('table');const h=el('tr');['Node','Address','State','Roles','Up'].forEach(x=>h.append(el('th',x)));"
  " t.append(h);"
  " peers.forEach(p=>{const r=el('tr');r.dataset.id=p.id;const id=el('td',p.id.slice(0,16)+'…','mono');"
  "  id.title=p.id;r.append(id);r.append(el('td',p.addr,'mono'));"
  "  const s=el('td');s.append(el('span',p.state,'badge '+p.state));"
  "  s.append(el('span',' '+ago(p.state_seconds||0),'empty'));r.append(s);"
  "  const ro=el('td');ro.append(badges(p.roles));r.append(ro);"
  "  r.append(el('td',p.uptime_seconds!==undefined?ago(p.uptime_seconds):'—'));t.append(r);});"
  " root.append(t);"
  "}"
  /* Hosted systems: their data, db-set and replication lag, drawn. */
  "function renderSystems(root,st){"
  " root.append(el('h2','Data'));"
  " const systems=st.systems||[];"
  " if(!systems.length){root.append(el('p','This node hosts no systems: install an app in "
  "cloud:apps to hold and replicate its data here.','empty'));return;}"
  " systems.forEach(sy=>{const box=el('div',null,'system');box.dataset.system=sy.system;"
  "  box.append(el('h3',sy.system));const dl=el('dl');"
  "  const row=(k,v,c)=>{dl.append(el('dt',k));const d=el('dd',v,c);dl.append(d);};"
  "  row('Entries',sy.entries+' from '+sy.writers+' writer'+(sy.writers===1?'':'s'));"
  "  row('Refused',String(sy.rejected),sy.rejected?'error':null);"
  "  row('Hosts alive',sy.hosts_alive+' (policy: at least '+sy.min_hosts+')');"
  "  row('Writes',sy.dormant?'dormant: too few hosts; data kept, writes refused':'accepted',"
  "   sy.dormant?'error':'ok');"
  "  const ds=sy.db_set;"
  "  if(ds){const m=ds.members+' member'+(ds.members===1?'':'s');"
  "   row('db-set',ds.level===0?'one set holds the whole system ('+m+')'"
  "    :ds.set+' (level '+ds.level+', '+m+(ds.bridge?', this node bridges to neighbouring sets':'')+')');"
  "   row('Cloud','about '+ds.estimated_hosts+' hosts; '+ds.tracked_sets+' other sets known');}"
  "  box.append(dl);"
  "  if(ds&&ds.level>0&&ds.level<=8){"
  "   const n=1<<ds.level;const g=el('div',null,'sets');g.title='db-sets: ours in blue';"
  "   for(let i=0;i<n;i++){const c=el('span',null,'cell');"
  "    const name=i.toString(2).padStart(ds.level,'0');if(name===ds.set)c.className='cell own';"
  "    c.title=name;g.append(c);}"
  "   box.append(el('div','The '+n+' db-sets of this system','empty'));box.append(g);}"
  "  const peers=sy.peers||[];"
  "  box.append(el('h4','Replication lag'));"
  "  if(!peers.length)box.append(el('p','No replication partners yet.','empty'));"
  "  else{const max=Math.max(1,...peers.map(p=>p.lag));const lag=el('div',null,'lag');"
  "   peers.forEach(p=>{lag.append(el('span',p.id.slice(0,16)+'…','mono'));"
  "    const track=el('div');const b=el('div',null,p.lag?'bar':'bar zero');"
  "    b.style.width=(p.lag?Math.max(2,100*p.lag/max):2)+'%';track.append(b);lag.append(track);"
  "    lag.append(el('span',p.lag?p.lag+' behind':'in sync'));});"
  "   box.append(lag);}"
  "  root.append(box);});"
  "}"
  "window.cbNodeUpdate=render;";

static char *
render_page (const char *page,
             gpointer    user_data,
             GError    **error)
{
  CbNodePage *self = user_data;
  g_autofree char *json = status_json (self);

  return g_strdup_printf (
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
    "<meta name=\"color-scheme\" content=\"light dark\">"
    "<title>Cloud Node</title><style>%s</style></head>"
    "<body><h1>Cloud Node</h1><div id=\"node\"></div>"
    "<script>%s\nrender(%s);</script></body></html>\n",
    page_style, page_script, json);
}

static void
forget_view (gpointer  data,
             GObject  *where_the_object_was)
{
  CbNodePage *self = data;

  g_ptr_array_remove (self->views, where_the_object_was);
}

static void
on_page_served (CbCloudScheme *scheme,
                const char    *page,
                WebKitWebView *view,
                gpointer       user_data)
{
  CbNodePage *self = user_data;

  if (g_strcmp0 (page, "node") != 0 || view == NULL || g_ptr_array_find (self->views, view, NULL))
    return;
  g_object_weak_ref (G_OBJECT (view), forget_view, self);
  g_ptr_array_add (self->views, view);
}

static void
on_node_changed (CbNode   *node,
                 gpointer  user_data)
{
  CbNodePage *self = user_data;
  g_autofree char *json = NULL;
  g_autofree char *script = NULL;

  for (guint i = 0; i < self->views->len; i++)
    {
      WebKitWebView *view = g_ptr_array_index (self->views, i);
      g_autofree char *page = NULL;

      /* Only to the page itself: a view that navigated elsewhere gets
       * nothing (its content may be any web site now). */
      if (webkit_web_view_get_uri (view) == NULL)
        continue;
      page = cb_cloud_scheme_page_of (webkit_web_view_get_uri (view));
      if (g_strcmp0 (page, "node") != 0 || webkit_web_view_is_loading (view))
        continue;
      if (script == NULL)
        {
          json = status_json (self);
          script = g_strdup_printf ("window.cbNodeUpdate && window.cbNodeUpdate(%s);", json);
        }
      webkit_web_view_evaluate_javascript (view, script, -1, NULL, "cloud:node", NULL, NULL, NULL);
    }
}

static void
cb_node_page_dispose (GObject *object)
{
  CbNodePage *self = CB_NODE_PAGE (object);

  for (guint i = 0; self->views != NULL && i < self->views->len; i++)
    g_object_weak_unref (g_ptr_array_index (self->views, i), forget_view, self);
  g_clear_pointer (&self->views, g_ptr_array_unref);
  if (self->node != NULL)
    g_signal_handlers_disconnect_by_data (self->node, self);
  g_clear_object (&self->node);
  G_OBJECT_CLASS (cb_node_page_parent_class)->dispose (object);
}

static void
cb_node_page_finalize (GObject *object)
{
  CbNodePage *self = CB_NODE_PAGE (object);

  g_free (self->start_error);
  G_OBJECT_CLASS (cb_node_page_parent_class)->finalize (object);
}

static void
cb_node_page_class_init (CbNodePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cb_node_page_dispose;
  object_class->finalize = cb_node_page_finalize;
}

static void
cb_node_page_init (CbNodePage *self)
{
  self->views = g_ptr_array_new ();
}

CbNodePage *
cb_node_page_new (CbCloudScheme *scheme,
                  CbNode        *node,
                  const char    *start_error)
{
  CbNodePage *self = g_object_new (CB_TYPE_NODE_PAGE, NULL);

  self->node = node != NULL ? g_object_ref (node) : NULL;
  self->start_error = g_strdup (start_error);
  /* The scheme keeps the page alive as long as it can serve it. */
  cb_cloud_scheme_add_page (scheme, "node", render_page, g_object_ref (self), g_object_unref);
  g_signal_connect_object (scheme, "page-served", G_CALLBACK (on_page_served), self, 0);
  if (node != NULL)
    g_signal_connect (node, "changed", G_CALLBACK (on_node_changed), self);
  return self;
}
