/* Bitcache pay button (docs/creators.md, "A pay button for any website").
 * Served by the host as <api>/button.js; a creator's page loads it with
 *   <a class="bitcache-button" href="https://HOST/PATH">Buy ...</a>
 *   <script src="https://HOST/API/button.js" async></script>
 * Every such link on this script's own origin gets the product's title,
 * price and free copies left from <api>/products/<path> (a CORS GET without
 * credentials: an origin the host does not list reads nothing, and the
 * link keeps its text), and opens the payment page in a popup on the
 * host's origin. The token, a cookie of the host, never reaches this page.
 * Without JavaScript, or if anything here fails, the link is a link. */
(function () {
  'use strict';

  var me = document.currentScript;
  if (!me || !me.src || !window.URL || !window.fetch) {
    return;
  }

  var src = new URL(me.src);
  var origin = src.origin;
  var api = src.pathname.replace(/\/button\.js$/, '');

  function span(cls, text) {
    var s = document.createElement('span');
    s.className = cls;
    s.textContent = text;
    return s;
  }

  function isCount(n) {
    return typeof n === 'number' && n >= 0 && Math.floor(n) === n;
  }

  /* the description into the link, as text only */
  function render(a, p) {
    if (!p || !isCount(p.price_sats) || typeof p.title !== 'string') {
      return;
    }

    var price = isCount(p.suggested_sats) && p.suggested_sats > p.price_sats
      ? 'from ' + p.price_sats + ' sats' : p.price_sats + ' sats';

    while (a.firstChild) {
      a.removeChild(a.firstChild);
    }

    a.appendChild(span('bitcache-title', 'Buy \u201c' + p.title + '\u201d'));
    a.appendChild(document.createTextNode(' \u2014 '));
    a.appendChild(span('bitcache-price', price));

    if (isCount(p.free_total) && p.free_total > 0 && isCount(p.free_left)
        && p.free_left > 0)
    {
      a.appendChild(document.createTextNode(' \u00b7 '));
      a.appendChild(span('bitcache-free', p.free_left + ' of ' + p.free_total
                                          + ' free copies left'));
    }

    a.setAttribute('data-bitcache-price-sats', String(p.price_sats));
    a.classList.add('bitcache-ready');
  }

  function describe(a, path) {
    fetch(origin + api + '/products' + path, {
      method: 'GET',
      mode: 'cors',
      credentials: 'omit',
      cache: 'no-store',
      headers: { 'Accept': 'application/json' }
    }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (p) {
      render(a, p);
    }).catch(function () {
      /* not listed, or the host is down: the link as it was */
    });
  }

  /* the payment page in a popup; a blocked popup leaves the click to the
   * link itself. The popup gets no opener: the page it shows (the host's)
   * has no handle on this one, nor this one on it. */
  function open(e) {
    var w;

    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey
        || e.shiftKey || e.altKey)
    {
      return;
    }

    w = window.open('', 'bitcache', 'popup,width=520,height=760');
    if (!w) {
      return;
    }

    try {
      w.opener = null;
    } catch (x) {
      /* an earlier popup already on the host's origin */
    }

    w.location.href = this.href;
    e.preventDefault();
  }

  function init() {
    var links = document.querySelectorAll('a.bitcache-button[href]');
    var i, a, u;

    for (i = 0; i < links.length; i++) {
      a = links[i];
      try {
        u = new URL(a.href);
      } catch (x) {
        continue;
      }
      if (u.origin !== origin || u.pathname.indexOf(api + '/') === 0
          || a.getAttribute('data-bitcache-bound'))
      {
        continue;
      }
      a.setAttribute('data-bitcache-bound', '1');
      a.addEventListener('click', open);
      describe(a, u.pathname);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
