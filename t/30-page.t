#!/usr/bin/perl
# The default payment page (ngx_bitcache_module/page_default.html) on its own,
# independent of the API: rendered by libbitcache's template engine for each
# state, served by a static nginx with the module's Content-Security-Policy,
# opened in headless Chromium (t/node/page.js) with and without JavaScript.
# Checks the DOM fields, that nothing leaves for another host, that the CSP
# is never violated, that the QR on screen decodes to the BIP21 URI, the
# polling, the copy button, the no-JS meta refresh and form POST, and that
# markup in values is escaped. Screenshots go to t/artifacts/.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use BcTest;

my $root = $BcTest::ROOT;
my $render = "$root/build/tools/render_page";
my $qrdump = "$root/build/tools/qr_svg_dump";
my $pagejs = "$root/t/node/page.js";
my $art = "$root/t/artifacts";

plan skip_all => "$render not built (make unit)" unless -x $render && -x $qrdump;
plan skip_all => "$BcTest::CLI not built (make cli)" unless -x $BcTest::CLI;
plan skip_all => 'chromium missing (make deps)' unless -x '/usr/bin/chromium';
plan skip_all => 'playwright-core missing (make deps)'
    unless -d "$root/t/node/node_modules/playwright-core";
for my $tool (qw(node rsvg-convert zbarimg)) {
    plan skip_all => "$tool missing (make deps)" if system("command -v $tool >/dev/null") != 0;
}
mkdir $art;

# the module's header (NGX_HTTP_BITCACHE_CSP in ngx_http_bitcache_page.c)
my $CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        . "script-src 'nonce-%s'; connect-src 'self'; form-action 'self'; "
        . "base-uri 'none'; frame-ancestors 'none'";
my $nonce = 'n0nce' . join('', map { (0 .. 9, 'a' .. 'z')[rand 36] } 1 .. 16);

my $t = BcTest->new;
my $dir = $t->dir;

# --- a real regtest address and its BIP21 URI --------------------------------
my $upub = 'upub5EFU65HtV5TeiSHmZZm7FUffBGy8UKeqp7vw43jYbvZPpoVsgU93oac7Wk3u6moKegAEWtGNF8DehrnHtv21XXEMYRUocHqguyjknFHYfgY';
my ($tpub) = `$BcTest::CLI derive $upub --descriptor` =~ /\((tpub\w+)\//;
my ($addr) = `$BcTest::CLI derive 'wpkh($tpub/0/*)' --network regtest --from 7 --count 1 2>/dev/null`
    =~ /^7 (\S+)$/m;
like($addr, qr/^bcrt1q[a-z0-9]{38}$/, "regtest address $addr");
my $bip21 = "bitcoin:$addr?amount=0.00012345&label=The%20Book%20%231";
my $qr_svg = `'$qrdump' '$bip21'`;
like($qr_svg, qr/^<svg /, 'QR SVG of the BIP21 URI');
$t->write_file('qr.svg', $qr_svg);

# --- the pages -----------------------------------------------------------------
my $id = '0123456789abcdef0123456789abcdef';
my $offer = 'AQAAAABpVbkAAAAAAAAAMDkB' . ('A-_b' x 30);
my $token_url = '/files/book.pdf?bitcache_token=AQARIjNEVWZ3iJmqu8zd7v8AAAAAaVW5AAAAAAMA';
my %common = (title => 'The Book', product => '/files/book.pdf', price_btc => '0.00012345',
              price_sats => '12345', network => 'regtest', nonce => $nonce, api => '/bitcache',
              reason => 'no token');
my %invoice = (invoice => $id, address => $addr, bip21 => $bip21, qr_svg => "\@$dir/qr.svg",
               expires => time + 900, seconds_left => 900, state => 'new', received_btc => '0',
               conf => '0', confirmations => '1', status_url => "/bitcache/invoices/$id");

sub render {
    my ($name, %vars) = @_;
    my @args = map { "$_=$vars{$_}" } sort keys %vars;
    open my $p, '-|', $render, '--default', @args or die;
    local $/;
    my $html = <$p>;
    close $p;
    is($?, 0, "render $name");
    # the embedded page is the file, byte for byte
    open $p, '-|', $render, "$root/ngx_bitcache_module/page_default.html", @args or die;
    my $from_file = <$p>;
    close $p;
    ok($html eq $from_file, "$name: embedded page_default.h renders as page_default.html");
    $t->write_file("html/p/$name.html", $html);
    return $html;
}

my $xss = q{<script>alert(1)</script>"onmouseover="alert(2)' &amp;};
my %pages = (
    offer   => { %common, offer => $offer },
    new     => { %common, %invoice },
    seen    => { %common, %invoice, state => 'seen', seen => 1 },
    underpaid => { %common, %invoice, state => 'underpaid', underpaid => 1, received_btc => '0.0001' },
    paid    => { %common, %invoice, state => 'paid', paid => 1, conf => 1, download_url => $token_url },
    unclaimed => { %common, %invoice, state => 'paid', unclaimed => 1, conf => 1 },
    expired => { %common, %invoice, state => 'expired', expired => 1, seconds_left => 0 },
    xss     => { %common, title => $xss, reason => $xss, product => $xss, offer => $xss,
                 api => '/bitcache' },
    xssinv  => { %common, %invoice, title => $xss, address => $xss, bip21 => "javascript:alert(3)//\"$xss",
                 status_url => "/bitcache/invoices/$id?q=$xss", state => $xss, confirmations => $xss },
);
my %html;
$html{$_} = render($_, %{ $pages{$_} }) for sort keys %pages;

# the invoice URL of the flow: the new page, or JSON for the poller
$t->write_file("html/p/invoice.html", $html{new});
sub status_json {
    my (%f) = @_;
    my %j = (id => $id, state => 'new', amount_sats => 12345, received_sats => 0, conf => 0,
             confirmations => 1, expires => $invoice{expires}, seconds_left => 900, %f);
    $t->write_file("html/p/status.json", encode_json(\%j));
}
status_json();

# --- static nginx with the module's CSP -----------------------------------------
my $csp = sprintf $CSP, $nonce;
$t->start_nginx(<<"CONF");
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        types { text/html html; application/json json; }
        add_header Content-Security-Policy "$csp" always;
        add_header Cache-Control "no-store" always;
        location = /bitcache/invoices {
            return 303 /bitcache/invoices/$id;
        }
        location /bitcache/invoices/ {
            if (\$http_accept ~* "application/json") {
                rewrite ^ /p/status.json last;
            }
            rewrite ^ /p/invoice.html last;
        }
    }
CONF

sub page {
    my ($path, @opt) = @_;
    open my $p, '-|', 'node', $pagejs, $t->url($path), grep { $_ ne '' } @opt or die;
    local $/;
    my $json = <$p>;
    close $p;
    my $r = eval { decode_json($json) } || { ok => 0, error => "no JSON: $json" };
    diag("page.js: $r->{error}") if !$r->{ok};
    return $r;
}

# every page: no other host, no CSP violation, no script error, no dialog
sub clean {
    my ($r, $name) = @_;
    ok($r->{ok}, "$name: page.js ran");
    is_deeply($r->{external}, [], "$name: no request for another host");
    is_deeply([grep { !/favicon/ } @{ $r->{console} || [] }], [], "$name: no console error (CSP)")
        or diag(join "\n", @{ $r->{console} });
    is_deeply($r->{page_errors}, [], "$name: no script error");
    is_deeply($r->{dialogs}, [], "$name: no dialog");
    ok(!$r->{horizontal_overflow}, "$name: no horizontal scrolling at $r->{viewport}[0] px")
        if $r->{viewport};
    is($r->{headers}{'content-security-policy'}, $csp, "$name: served with the CSP") if $r->{headers};
    is((grep { $_->{nonce} ne $nonce } @{ $r->{scripts} || [] }), 0, "$name: every script has the nonce");
    is((grep { $_->{src} } @{ $r->{scripts} || [] }), 0, "$name: no external script");
}

sub decode_png {
    my ($png) = @_;
    my $got = `zbarimg --raw -q '$png' 2>/dev/null`;
    $got =~ s/\n\z//;
    return $got;
}

my @phone = ('--viewport', '390x844');
my @desk = ('--viewport', '1280x900');

# --- offer page (402) ---------------------------------------------------------
for my $v ([phone => @phone], [desktop => @desk]) {
    my ($vn, @vo) = @$v;
    my $r = page('/p/offer.html', @vo, '--screenshot', "$art/page-offer-$vn.png");
    clean($r, "offer $vn");
    is($r->{title}, 'The Book', "offer $vn: title");
    is($r->{price_btc}, '0.00012345', "offer $vn: price in BTC");
    is($r->{price_sats}, '12345', "offer $vn: price in sats");
    is($r->{fields}{pay}{text}, 'Pay with bitcoin', "offer $vn: Pay button");
    ok($r->{fields}{pay}{visible}, "offer $vn: Pay button visible");
    is($r->{form}{method}, 'post', "offer $vn: form POST");
    is($r->{form}{action}, $t->url('/bitcache/invoices'), "offer $vn: to the API");
    is($r->{form}{offer}, $offer, "offer $vn: carries the offer");
    ok(!defined $r->{meta_refresh}, "offer $vn: no refresh");
    ok(!$r->{fields}{qr} && !$r->{fields}{address}, "offer $vn: no invoice yet");
}

# click Pay: the POST answers 303 to the invoice, which shows the QR
{
    my $r = page('/p/offer.html', @phone, '--click', '#pay', '--wait', '#qr svg');
    clean($r, 'offer -> invoice (JS)');
    is($r->{url}, $t->url("/bitcache/invoices/$id"), 'JS: Pay leads to the invoice page');
    is($r->{address}, $addr, 'JS: invoice page after Pay shows the address');
    like($t->access_log, qr{"POST /bitcache/invoices HTTP/1\.1" 303}, 'JS: the form was POSTed');
}
{
    # back from the invoice page: Pay works again (it is disabled while the POST runs)
    my $r = page('/p/offer.html', @phone, '--click', '#pay', '--wait', '#qr svg', '--back', '--wait', '#pay');
    clean($r, 'back to the offer');
    is($r->{url}, $t->url('/p/offer.html'), 'back: the offer page');
    ok(!$r->{fields}{pay}{disabled}, 'back: Pay enabled');
    is($r->{fields}{pay}{text}, 'Pay with bitcoin', 'back: Pay labelled again');
}
{
    my $before = () = $t->access_log =~ /POST \/bitcache\/invoices/g;
    my $r = page('/p/offer.html', @phone, '--no-js', '--click', '#pay', '--wait', '#qr svg');
    ok($r->{ok}, 'no JS: page.js ran');
    is_deeply($r->{external}, [], 'no JS: nothing external');
    is($r->{url}, $t->url("/bitcache/invoices/$id"), 'no JS: Pay (plain form POST) leads to the invoice');
    is($r->{meta_refresh}, '10', 'no JS: the invoice page refreshes itself every 10 s');
    my $after = () = $t->access_log =~ /POST \/bitcache\/invoices/g;
    is($after, $before + 1, 'no JS: one POST');
}

# --- invoice page, waiting ------------------------------------------------------
for my $v ([phone => @phone], [desktop => @desk], ['phone-dark' => @phone, '--dark']) {
    my ($vn, @vo) = @$v;
    my $r = page("/bitcache/invoices/$id", @vo, '--screenshot', "$art/page-invoice-$vn.png",
                 '--shot', "#qr=$art/page-qr-$vn.png");
    clean($r, "invoice $vn");
    is($r->{address}, $addr, "invoice $vn: address");
    is($r->{bip21}, $bip21, "invoice $vn: BIP21 link");
    is($r->{price_btc}, '0.00012345', "invoice $vn: price");
    like($r->{status}, qr/^Waiting for your payment/, "invoice $vn: status");
    is($r->{state}, 'new', "invoice $vn: state");
    like($r->{countdown}, qr/^1[45]:\d\d$/, "invoice $vn: countdown m:ss ($r->{countdown})");
    ok($r->{fields}{copy}{visible}, "invoice $vn: copy button shown with JS");
    ok(!$r->{fields}{download}{visible}, "invoice $vn: no download yet");
    ok(!defined $r->{meta_refresh}, "invoice $vn: no meta refresh with JS (it polls)");
    ok($r->{qr_box} && $r->{qr_box}{width} >= 200 && abs($r->{qr_box}{width} - $r->{qr_box}{height}) < 1,
       "invoice $vn: QR square, at least 200 px (" . int($r->{qr_box}{width} || 0) . ")");
    is(decode_png("$art/page-qr-$vn.png"), $bip21, "invoice $vn: the QR on screen decodes to the BIP21 URI");
    if ($vn eq 'phone') {
        $t->write_file('dom.svg', $r->{qr_svg});
        system('rsvg-convert', '-w', 400, '-h', 400, '-o', "$dir/dom.png", "$dir/dom.svg");
        is(decode_png("$dir/dom.png"), $bip21, 'the SVG in the DOM decodes to the BIP21 URI');
    }
}

# copy button
{
    my $r = page("/bitcache/invoices/$id", @phone, '--clipboard', '--click', '#copy', '--wait-ms', 300);
    clean($r, 'copy');
    is($r->{clipboard}, $addr, 'copy: the clipboard holds the address');
    is($r->{fields}{copy}{text}, 'Copied', 'copy: the button says so');
}

# polling: the invoice gets paid while the page is open
{
    status_json();
    my $pid = open(my $p, '-|', 'node', $pagejs, $t->url("/bitcache/invoices/$id"), @phone,
                   '--wait-text', 'Payment seen', '--summary',
                   '--wait-text', 'download is ready', '--wait', '#download',
                   '--screenshot', "$art/page-paid-polled-phone.png") or die;
    # the state changes follow the page's own polls (every 3 s), not the
    # clock: a slow Chromium start must not make it miss "seen"
    my $gets = sub { scalar grep { m{"GET /bitcache/invoices/$id HTTP/1.1" 200} }
                     split /\n/, $t->access_log };
    my $n = $gets->();
    BcTest::wait_until(sub { $gets->() >= $n + 2 }, 40);      # the page, its first poll
    status_json(state => 'seen', received_sats => 12345, conf => 0, seconds_left => 880);
    $n = $gets->();
    BcTest::wait_until(sub { $gets->() >= $n + 1 }, 40);      # a poll that got "seen"
    sleep 0.5;
    status_json(state => 'paid', received_sats => 12345, conf => 1, seconds_left => 876,
                download_url => $token_url);
    local $/;
    my $json = <$p>;
    close $p;
    my $r = eval { decode_json($json) } || { ok => 0, error => "no JSON: $json" };
    diag("page.js: $r->{error}") if !$r->{ok};
    clean($r, 'polling');
    is($r->{steps}[0]{summary}{status}, 'Payment seen: 0 of 1 confirmations.', 'polling: seen');
    is($r->{state}, 'paid', 'polling: paid');
    ok($r->{fields}{download}{visible}, 'polling: download link shown');
    is($r->{fields}{download}{href}, $token_url, 'polling: with the token');
    ok(!$r->{fields}{qr}{visible} && !$r->{fields}{address}{visible}, 'polling: QR and address gone');
    my @polls = grep { m{^GET .*/bitcache/invoices/$id$} } @{ $r->{requests} };
    ok(@polls >= 3, 'polling: ' . scalar(@polls) . ' requests of the status URL');
    my @json_gets = grep { m{"GET /bitcache/invoices/$id HTTP/1.1" 200} } split /\n/, $t->access_log;
    ok(@json_gets >= 3, 'polling: seen by nginx');
    status_json();
}

# --- the other states, with and without JS ----------------------------------------
{
    my $r = page('/p/seen.html', @phone, '--no-js');
    is($r->{status}, 'Payment seen: 0 of 1 confirmations.', 'seen: status');
    is($r->{meta_refresh}, '10', 'seen, no JS: refreshes');
    $r = page('/p/underpaid.html', @phone, '--no-js', '--screenshot', "$art/page-underpaid-phone-nojs.png");
    like($r->{status}, qr/^Received 0\.0001 BTC, less than the amount/, 'underpaid: status');
    ok($r->{fields}{qr}{visible}, 'underpaid: QR still shown to pay the rest');
}
for my $js ([js => ''], [nojs => '--no-js']) {
    my ($jn, $jo) = @$js;
    my $r = page('/p/paid.html', @phone, $jo, '--screenshot', "$art/page-paid-phone-$jn.png");
    clean($r, "paid $jn");
    like($r->{status}, qr/^Paid, thank you/, "paid $jn: status");
    ok($r->{fields}{download}{visible}, "paid $jn: download link");
    is($r->{fields}{download}{href}, $token_url, "paid $jn: download URL");
    ok(!$r->{fields}{qr}{visible}, "paid $jn: no QR");
    ok(!defined $r->{meta_refresh}, "paid $jn: no refresh");
    is(scalar(grep { m{/bitcache/invoices/} } @{ $r->{requests} }), 0, "paid $jn: no polling");

    # paid, but opened by a browser that did not create the invoice (no claim)
    $r = page('/p/unclaimed.html', @phone, $jo, '--wait-ms', 3500);
    clean($r, "unclaimed $jn");
    like($r->{status}, qr/^Paid\. The download goes to the browser or script that created this invoice\.$/,
         "unclaimed $jn: says paid, and who gets the download");
    ok(!$r->{fields}{qr}{visible} && !$r->{fields}{address}{visible}, "unclaimed $jn: no QR, no address");
    ok(!$r->{fields}{download}{visible}, "unclaimed $jn: no download");
    ok(!defined $r->{meta_refresh}, "unclaimed $jn: no refresh");
    is(scalar(grep { m{/bitcache/invoices/} } @{ $r->{requests} }), 0, "unclaimed $jn: no polling");

    $r = page('/p/expired.html', @phone, $jo, '--screenshot', "$art/page-expired-phone-$jn.png");
    clean($r, "expired $jn");
    like($r->{status}, qr/^This invoice has expired/, "expired $jn: status");
    ok(!$r->{fields}{qr}{visible} && !$r->{fields}{download}{visible}, "expired $jn: neither QR nor download");
    ok(!defined $r->{meta_refresh}, "expired $jn: no refresh");
}

# --- without JavaScript: the meta refresh really reloads ------------------------------
{
    my $r = page("/bitcache/invoices/$id", @phone, '--no-js', '--screenshot', "$art/page-invoice-phone-nojs.png",
                 '--shot', "#qr=$art/page-qr-phone-nojs.png", '--wait-ms', 11500);
    ok($r->{ok}, 'no JS: page.js ran');
    is_deeply($r->{external}, [], 'no JS: nothing external');
    is($r->{meta_refresh}, '10', 'no JS: meta refresh 10');
    ok(!$r->{fields}{copy}{visible}, 'no JS: no copy button (it needs JS)');
    is($r->{countdown}, '900 s', 'no JS: the time left as text');
    is($r->{address}, $addr, 'no JS: address');
    is(decode_png("$art/page-qr-phone-nojs.png"), $bip21, 'no JS: the QR decodes');
    my @loads = grep { m{^GET .*/bitcache/invoices/$id$} } @{ $r->{requests} };
    is(scalar @loads, 2, 'no JS: the page reloaded itself after 10 s');
}

# --- escaping -------------------------------------------------------------------------
{
    unlike($html{xss}, qr/<script>alert/, 'xss: no injected script element in the HTML');
    like($html{xss}, qr/&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;onmouseover=&quot;alert\(2\)&#39; &amp;amp;/,
         'xss: & < > " \' escaped');
    unlike($html{xssinv}, qr/<script>alert|"onmouseover/, 'xss invoice: nothing injected');
    for my $js ([js => ''], [nojs => '--no-js']) {
        my ($jn, $jo) = @$js;
        my $r = page('/p/xss.html', @phone, $jo, '--screenshot', "$art/page-xss-$jn.png");
        clean($r, "xss $jn");
        is($r->{title}, $xss, "xss $jn: the title shows as text");
        like($r->{doc_title}, qr/^\Q$xss\E/, "xss $jn: document title as text");
        is($r->{form}{offer}, $xss, "xss $jn: the offer value intact");
        like($r->{body_text}, qr/\(\Q$xss\E\)/, "xss $jn: reason as text");
        $r = page('/p/xssinv.html', @phone, $jo);
        clean($r, "xss invoice $jn");
        is($r->{address}, $xss, "xss invoice $jn: address as text");
        is($r->{bip21}, "javascript:alert(3)//\"$xss", "xss invoice $jn: href kept in its attribute");
    }
}

$t->check_log_clean;
done_testing();
