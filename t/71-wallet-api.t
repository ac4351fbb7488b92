#!/usr/bin/perl
# The wallet's routes (docs/wallet.md): open, restore (typo, unknown,
# rate-limited), forget, the wallet page (HTML and JSON), history,
# settings and buy, by a script (Authorization: Bitcache) and by a browser
# (the cookie, forms); cross-site POSTs refused; the directives' nginx -t
# errors. Wallets are funded with the test fixture writer (no node here:
# t/73 tops up on the regtest node).
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use HTTP::Tiny;
use BcTest;

plan skip_all => 'module or tools not built (make all unit)'
    unless -f $BcTest::MODULE && -x "$BcTest::TOOLS/wallet_fixture";

my $t = BcTest->new;
$t->start_redis;
my %file = map { $_ => $t->make_file("files/$_", 20_000 + length $_) } qw(a.bin b.bin c.bin d.bin);
my (undef, $xonly) = $t->watcher_key;
my $plain = BcTest::free_port();

# nginx -t: the directives' errors name the directive, the file and line
{
    my @bad = (
        [ 'bitcache_topup_wallet "tpubnotakey";', qr/"bitcache_topup_wallet": "tpubnotakey" is not usable on regtest: .* in \S+\.conf:\d+/ ],
        [ 'bitcache_topup_wallet "$BcTest::TEST_WALLET"; bitcache_wallet_min_topup 5000; bitcache_wallet_max_topup 4000;',
          qr/bitcache_wallet_min_topup.*bitcache_wallet_max_topup/ ],
        [ 'bitcache_topup_wallet "$BcTest::TEST_WALLET"; bitcache_wallet_restore_rate 0;',
          qr/"bitcache_wallet_restore_rate": invalid number "0".* in \S+\.conf:\d+/ ],
        [ 'bitcache_topup_wallet "$BcTest::TEST_WALLET"; bitcache_wallet_max_balance 10x;',
          qr/"bitcache_wallet_max_balance": invalid number "10x"/ ],
    );
    for my $case (@bad) {
        my ($dir, $want) = @$case;
        $dir =~ s/\$BcTest::TEST_WALLET/$BcTest::TEST_WALLET/g;
        my $http = $t->selling_http('');
        $http =~ s{location /bitcache/ \{ bitcache_api; \}}{location /bitcache/ { bitcache_api; bitcache_wallets on; $dir }};
        my ($rc, $out) = $t->nginx_test($http, 'bad.conf');
        isnt($rc, 0, "nginx -t refuses: $dir");
        like($out, $want, '... and says why');
    }
    my $http = $t->selling_http('');
    $http =~ s{location /bitcache/ \{ bitcache_api; \}}{location /bitcache/ { bitcache_api; bitcache_wallets on; }};
    my ($rc, $out) = $t->nginx_test($http, 'bad.conf');
    like($out, qr/"bitcache_wallets on" in the "bitcache_api" location needs "bitcache_topup_wallet".* in \S+\.conf:\d+/,
         'wallets on in the API without a top-up key: refused');
    $http = $t->selling_http('location = /bitcache/invoices { bitcache_api; bitcache_wallets on; '
                             . "bitcache_topup_wallet \"$BcTest::TEST_WALLET\"; }");
    $http =~ s{location /bitcache/ \{ bitcache_api; \}}{};
    ($rc, $out) = $t->nginx_test($http, 'bad.conf');
    like($out, qr/never receives "\/bitcache\/wallets"/, 'an API location that cannot receive the wallet routes: refused');
}

my $http = $t->wallet_http('location /files/ { bitcache on; }', price => 500,
                           api => 'bitcache_wallet_restore_rate 6;');
$http .= <<"CONF";
    server {
        listen 127.0.0.1:$plain;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;
        location /bitcache/ { bitcache_api; }
    }
CONF
$t->start_nginx($http);
my $port = $t->{http_port};
my $ua = HTTP::Tiny->new(timeout => 20, max_redirect => 0, keep_alive => 0);

sub cookie_of {
    my ($r, $name) = @_;
    my $sc = $r->{headers}{'set-cookie'} // '';
    for my $c (ref $sc ? @$sc : ($sc)) {
        return $c if $c =~ /^\Q$name\E=/;
    }
    return '';
}

# without bitcache_wallets on: no wallet routes
for my $p ('/bitcache/wallets', '/bitcache/wallet', '/bitcache/wallet/buy') {
    my $r = $ua->request('POST', "http://127.0.0.1:$plain$p", { content => '' });
    is($r->{status}, 404, "$p: 404 without bitcache_wallets");
}

# ---- open ----
my $w = $t->wallet_open;
like($w->{code}, qr/^bcw1[02-9ac-hj-np-z]{38}$/, 'POST /wallets: a recovery code (bcw1, 42 characters)');
like($w->{wallet}, qr/^[0-9a-f]{32}$/, '... a wallet id');
is($w->{balance_sats}, 0, '... balance 0');
is($w->{wallet_url}, '/bitcache/wallet', '... the wallet page');
is($t->redis('HGET', "bitcache:wal:$w->{wallet}", 'bal'), '0', '... its state in Redis');
unlike(join(' ', @{ $t->redis('HGETALL', "bitcache:wal:$w->{wallet}") || [] }), qr/\Q$w->{code}\E/,
       '... which does not hold the code');

my $r = $ua->request('POST', $t->url('/bitcache/wallets'), { content => '' });
is($r->{status}, 201, 'POST /wallets from a form: 201 and a page');
my $cookie = cookie_of($r, 'bitcache_wallet');
my ($bcode) = $cookie =~ /^bitcache_wallet=(bcw1[0-9a-z]{38});/;
ok($bcode, '... Set-Cookie bitcache_wallet=<code>');
like($cookie, qr/; Path=\/;.*HttpOnly; SameSite=Lax/, '... HttpOnly, SameSite=Lax, Path=/');
like($cookie, qr/Max-Age=31536000/, '... for a year');
like($r->{content}, qr/id="code"[^>]*>\Q$bcode\E</, '... the page shows the code');
like($r->{headers}{'content-security-policy'} // '', qr/script-src 'nonce-/, '... under the payment page\'s CSP');

# the "wallet opened" page reloaded posts the form again: no second wallet,
# the cookie stays
{
    my $n = scalar @{ $t->redis('KEYS', 'bitcache:wal:*') };
    my $again = $ua->request('POST', $t->url('/bitcache/wallets'),
                             { headers => { Cookie => "bitcache_wallet=$bcode" }, content => '' });
    is($again->{status}, 303, 'POST /wallets again from a browser with a wallet: 303');
    like($again->{headers}{location}, qr{/bitcache/wallet$}, '... to the wallet page');
    ok(!$again->{headers}{'set-cookie'}, '... the cookie is not replaced');
    my $j = $t->wallet_req('POST', '/wallets', $w->{code});
    is($j->{status}, 409, 'POST /wallets with Authorization of a wallet (JSON): 409');
    is_deeply([@{ $j->{json} }{qw(error reason wallet)}],
              ['has_wallet', 'this browser already has a wallet: forget it first', $w->{wallet}],
              '... "forget it first", and its id');
    is(scalar @{ $t->redis('KEYS', 'bitcache:wal:*') }, $n, '... no wallet made');
    my $none = $ua->request('POST', $t->url('/bitcache/wallets'),
                            { headers => { Cookie => 'bitcache_wallet=bcw1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq' },
                              content => '' });
    is($none->{status}, 201, '... a cookie that is no wallet\'s does not stop a new one');
}

# the wallet page: the code is not shown again, only its ends
$r = $ua->request('GET', $t->url('/bitcache/wallet'), { headers => { Cookie => "bitcache_wallet=$bcode" } });
is($r->{status}, 200, 'GET /wallet with the cookie: 200');
like($r->{content}, qr/id="balance-sats">0</, '... the balance');
unlike($r->{content}, qr/\Q$bcode\E/, '... the code is not shown again');
like($r->{content}, qr/id="code-hint">\Q@{[substr $bcode, 0, 8]}\E…\Q@{[substr $bcode, -4]}\E</, '... its first and last characters');
like($r->{content}, qr/held by the operator/, '... says who holds balances');
like($r->{headers}{'content-security-policy'} // '', qr/default-src 'none'/, '... CSP');

$r = $ua->request('GET', $t->url('/bitcache/wallet'));
is($r->{status}, 200, 'GET /wallet without a wallet (HTML): the open/restore page');
like($r->{content}, qr/id="open-form" method="post" action="\/bitcache\/wallets"/, '... with the open form');
like($r->{content}, qr/id="restore-form"/, '... and the restore form');

$r = $t->wallet_req('GET', '/wallet');
is($r->{status}, 401, 'GET /wallet without a credential (JSON): 401');
like($r->{headers}{'www-authenticate'} // '', qr/^Bitcache/, '... WWW-Authenticate: Bitcache');

$r = $t->wallet_req('GET', '/wallet', $w->{code});
is($r->{status}, 200, 'GET /wallet (JSON)');
is_deeply([ @{ $r->{json} }{qw(wallet balance_sats max_auto_price)} ], [ $w->{wallet}, 0, 0 ], '... wallet, balance, max_auto_price');
ok(JSON::PP::is_bool($r->{json}{frozen}) && !$r->{json}{frozen}, '... not frozen');
is(ref $r->{json}{topups}, 'ARRAY', '... topups');
is(ref $r->{json}{purchases}, 'ARRAY', '... purchases');

# ---- credentials ----
(my $typo = $w->{code}) =~ s/(.)$/$1 eq 'q' ? 'p' : 'q'/e;
for my $case (['/wallet/buy', 'POST'], ['/wallet/settings', 'POST'], ['/wallet/history', 'GET']) {
    my ($p, $m) = @$case;
    $r = $t->wallet_req($m, $p, undef, $m eq 'POST' ? { max_auto_price => '1' } : undef);
    is($r->{status}, 401, "$m $p without a credential: 401");
    $r = $t->wallet_req($m, $p, $typo, $m eq 'POST' ? { max_auto_price => '1' } : undef);
    is($r->{status}, 401, "$m $p with a code that has a typo: 401");
}
$r = $t->wallet_req('GET', '/wallet', 'bcw1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq');
is($r->{status}, 401, 'a code that is not one: 401');

# ---- funds, buy ----
$t->wallet_credit($w->{wallet}, 2000);
$r = $t->wallet_req('GET', '/wallet', $w->{code});
is($r->{json}{balance_sats}, 2000, 'credited (fixture): balance 2000');
is(scalar @{ $r->{json}{topups} }, 1, '... one top-up listed');

my %offer = map { $_ => $t->offer_of("/files/$_") } keys %file;

$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer{'a.bin'} });
is($r->{status}, 200, 'buy a.bin (JSON): 200');
is($r->{json}{state}, 'bought', '... bought');
is($r->{json}{balance_sats}, 1500, '... balance 1500');
is($r->{json}{price_sats}, 500, '... price 500');
like($r->{json}{download_url}, qr{^/files/a\.bin\?bitcache_token=[A-Za-z0-9_-]+$}, '... a download URL');
my $tok_a = $r->{json}{token};
my $d = $t->get($r->{json}{download_url});
is($d->{status}, 200, '... it downloads');
ok($d->{content} eq $file{'a.bin'}, '... the file\'s exact bytes');

$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer{'a.bin'} });
is($r->{json}{state}, 'owned', 'buy a.bin again: owned');
is($r->{json}{charged_sats}, 0, '... not charged');
is($r->{json}{balance_sats}, 1500, '... balance still 1500');
is($r->{json}{token}, $tok_a, '... the same token again');

$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, "offer=$offer{'a.bin'}&again=1");
is($r->{json}{state}, 'bought', 'again=1 (form body): bought anew');
is($r->{json}{balance_sats}, 1000, '... charged: 1000');
isnt($r->{json}{token}, $tok_a, '... a new token');

# idempotency keys
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer{'b.bin'} }, 'Idempotency-Key' => 'k-1');
is($r->{json}{state}, 'bought', 'b.bin with Idempotency-Key k-1: bought');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer{'b.bin'}, again => '1' }, 'Idempotency-Key' => 'k-1');
is($r->{status}, 200, 'the same key again, even with again=1: 200');
is($r->{json}{state}, 'owned', '... owned, not bought twice');
is($r->{json}{balance_sats}, 500, '... balance 500');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer{'c.bin'}, key => 'k-1' });
is($r->{status}, 409, 'the key for another product: 409');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer{'c.bin'}, key => 'bad key!' });
is($r->{status}, 400, 'a malformed key: 400');

# a form from the buyer's own page: 303 to the download, the token cookie
$r = $ua->request('POST', $t->url('/bitcache/wallet/buy'), {
    headers => { Cookie => "bitcache_wallet=$w->{code}", 'Content-Type' => 'application/x-www-form-urlencoded',
                 Origin => "http://127.0.0.1:$port", 'Sec-Fetch-Site' => 'same-origin' },
    content => "offer=$offer{'c.bin'}" });
is($r->{status}, 303, 'buy c.bin from a form: 303');
like($r->{headers}{location}, qr{^(http://127\.0\.0\.1:\d+)?/files/c\.bin$}, '... to the download');
my $tc = cookie_of($r, 'bitcache_token');
like($tc, qr/^bitcache_token=[A-Za-z0-9_-]+; Path=\/files\/c\.bin; .*HttpOnly; SameSite=Lax/, '... with the token cookie, scoped to the file');
my ($tok_c) = $tc =~ /^bitcache_token=([^;]+)/;
$d = $t->get('/files/c.bin', Cookie => "bitcache_token=$tok_c");
ok($d->{status} == 200 && $d->{content} eq $file{'c.bin'}, '... which downloads the file\'s exact bytes');

# balance too low
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer{'d.bin'} });
is($r->{status}, 402, 'd.bin on a balance of 0: 402');
is($r->{json}{error}, 'balance_too_low', '... balance too low');
is($r->{json}{topup_url}, '/bitcache/wallet/topups', '... with the top-up link');
is($r->{json}{balance_sats}, 0, '... balance 0');
$r = $ua->request('POST', $t->url('/bitcache/wallet/buy'), {
    headers => { Cookie => "bitcache_wallet=$w->{code}", 'Content-Type' => 'application/x-www-form-urlencoded' },
    content => "offer=$offer{'d.bin'}" });
is($r->{status}, 402, 'the same from a form: 402');
like($r->{content}, qr/id="message"[^>]*>Balance too low for this file/, '... a page that says so');
like($r->{content}, qr{id="back" class="btn" href="/bitcache/wallet"}, '... with the way to top up');
unlike($r->{content}, qr/id="open-form"/, '... and no "open a wallet"');

# cross-site POSTs carry the cookie in some browsers: refused anyway
$t->wallet_credit($w->{wallet}, 1000);
for my $h ({ Origin => 'http://evil.example' }, { 'Sec-Fetch-Site' => 'cross-site' }, { Origin => 'null' }) {
    $r = $ua->request('POST', $t->url('/bitcache/wallet/buy'), {
        headers => { Cookie => "bitcache_wallet=$w->{code}", 'Content-Type' => 'application/x-www-form-urlencoded', %$h },
        content => "offer=$offer{'d.bin'}" });
    is($r->{status}, 403, 'a cross-site POST with the cookie: 403 (' . join(', ', %$h) . ')');
}
$r = $ua->request('POST', $t->url('/bitcache/wallets'), { headers => { Origin => 'http://evil.example' }, content => '' });
is($r->{status}, 403, 'a cross-site POST /wallets (would replace the cookie): 403');
is(cookie_of($r, 'bitcache_wallet'), '', '... and no cookie set');
$r = $t->wallet_req('GET', '/wallet', $w->{code});
is($r->{json}{balance_sats}, 1000, '... nothing was bought');

# settings (after SCRIPT FLUSH: the script is sent again)
$t->redis('SCRIPT', 'FLUSH');
$r = $t->wallet_req('POST', '/wallet/settings', $w->{code}, { max_auto_price => 300 });
is($r->{status}, 200, 'settings: 200');
is($r->{json}{max_auto_price}, 300, '... max_auto_price 300');
$r = $t->wallet_req('GET', '/wallet', $w->{code});
is($r->{json}{max_auto_price}, 300, '... kept, in a state that verifies');
is($r->{json}{balance_sats}, 1000, '... the balance unchanged');
$r = $t->wallet_req('POST', '/wallet/settings', $w->{code}, { max_auto_price => '-1' });
is($r->{status}, 400, 'max_auto_price -1: 400');
$r = $ua->request('POST', $t->url('/bitcache/wallet/settings'), {
    headers => { Cookie => "bitcache_wallet=$w->{code}", 'Content-Type' => 'application/x-www-form-urlencoded' },
    content => 'max_auto_price=0' });
is($r->{status}, 303, 'settings from the form: 303');
like($r->{headers}{location}, qr{^(http://127\.0\.0\.1:\d+)?/bitcache/wallet$}, '... to the wallet page');

# history
$r = $t->wallet_req('GET', '/wallet/history?limit=2', $w->{code});
is($r->{status}, 200, 'history: 200');
is(scalar @{ $r->{json}{entries} }, 2, '... limit=2: two entries');
my @seq = map { $_->{seq} } @{ $r->{json}{entries} };
ok($seq[0] > $seq[1], '... newest first');
is($r->{json}{next}, $seq[1], '... next');
$r = $t->wallet_req('GET', "/wallet/history?before=$seq[1]&limit=100", $w->{code});
is($r->{json}{entries}[0]{seq}, $seq[1] - 1, 'before=next: the page after');
is($r->{json}{next}, undef, '... the last page: next null');
is($r->{json}{entries}[-1]{kind}, 'credit', '... down to the first credit');
$r = $t->wallet_req('GET', '/wallet/history?limit=x', $w->{code});
is($r->{status}, 400, 'limit=x: 400');

# the wallet page lists the purchases with download links
$r = $ua->request('GET', $t->url('/bitcache/wallet'), { headers => { Cookie => "bitcache_wallet=$w->{code}" } });
like($r->{content}, qr{<a class="download" href="/files/c\.bin\?bitcache_token=[A-Za-z0-9_-]+">/files/c\.bin</a>},
     'the wallet page: purchases with download links');

# frozen (an audit failed)
$t->redis('HSET', "bitcache:wal:$w->{wallet}", 'frozen', 'audit: entry 3 does not verify');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => $offer{'d.bin'} });
is($r->{status}, 403, 'a frozen wallet: 403');
is($r->{json}{frozen}, 'audit: entry 3 does not verify', '... with the reason');
$r = $t->wallet_req('GET', '/wallet', $w->{code});
is($r->{json}{frozen}, 'audit: entry 3 does not verify', '... GET /wallet says frozen');
is($r->{json}{balance_sats}, 1000, '... balance unchanged');
$t->redis('HSET', "bitcache:wal:$w->{wallet}", 'frozen', 'x' x 5000);
$r = $t->wallet_req('GET', '/wallet', $w->{code});
is(length $r->{json}{frozen}, 256, 'a frozen reason (not MAC\'d) is shown at most 256 bytes long');
$t->redis('HDEL', "bitcache:wal:$w->{wallet}", 'frozen');

# the ledger adds up (bitcache wallet audit)
my $audit = $t->wallet_audit($w->{wallet});
ok($audit->{ok}, 'audit: the ledger verifies') or diag explain $audit;
is($audit->{balance_sats}, 1000, '... balance 1000');
is($audit->{debited_sats}, 2000, '... four purchases of 500');

# ---- restore ----
$r = $t->wallet_req('POST', '/wallet/restore', undef, { code => uc $w->{code} });
is($r->{status}, 200, 'restore with the code (upper case): 200');
is_deeply([ @{ $r->{json} }{qw(wallet balance_sats)} ], [ $w->{wallet}, 1000 ], '... wallet and balance');
like(cookie_of($r, 'bitcache_wallet'), qr/^bitcache_wallet=\Q$w->{code}\E; Path=\/;.*HttpOnly/, '... the cookie, in its canonical spelling');
$r = $ua->request('POST', $t->url('/bitcache/wallet/restore'), {
    headers => { 'Content-Type' => 'application/x-www-form-urlencoded' }, content => "code=$w->{code}" });
is($r->{status}, 303, 'restore from the form: 303');
like($r->{headers}{location}, qr{^(http://127\.0\.0\.1:\d+)?/bitcache/wallet$}, '... to the wallet page');
# typed as written down, in groups: a form sends the spaces as '+' (or %20),
# a dash may come as %2D
{
    my @g = unpack '(A4)*', uc $w->{code};
    my $typed = join('+', @g[0 .. 3]) . '-' . join('%20', @g[4 .. 7]) . '%2D' . join('+-+', @g[8 .. $#g]);
    $r = $ua->request('POST', $t->url('/bitcache/wallet/restore'), {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded' }, content => "code=$typed" });
    is($r->{status}, 303, 'restore from the form with a code typed in groups (+, %20, -, %2D): 303')
        or diag $r->{content};
    like(cookie_of($r, 'bitcache_wallet'), qr/^bitcache_wallet=\Q$w->{code}\E;/, '... the wallet\'s cookie');
    $r = $ua->request('POST', $t->url('/bitcache/wallet/restore'), {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded' }, content => "code=bcw1%2" });
    is($r->{status}, 400, '... a broken %-escape: 400');
    $r = $ua->request('POST', $t->url('/bitcache/wallet/restore'), {
        headers => { 'Content-Type' => 'application/x-www-form-urlencoded' }, content => 'code=' . ('+' x 200) });
    is($r->{status}, 400, '... 200 spaces: 400');
}
$r = $t->wallet_req('POST', '/wallet/restore', undef, { code => $typo });
is($r->{status}, 400, 'a typo: 400');
like($r->{json}{reason}, qr/check it for typos/, '... "check it for typos"');
$r = $t->wallet_req('POST', '/wallet/restore', undef, { code => $bcode });
is($r->{status}, 200, 'the browser wallet restores too');
my $other = $t->wallet_open;
$t->redis('DEL', "bitcache:wal:$other->{wallet}");
$r = $t->wallet_req('POST', '/wallet/restore', undef, { code => $other->{code} });
is($r->{status}, 404, 'a well-formed code of no wallet: 404');
like($r->{json}{reason}, qr/no wallet has this recovery code/, '... "no wallet has this recovery code"');
# 5 counted so far (the code twice, typed in groups, the browser's, the
# unknown; a typo is not counted): the 7th in a minute is refused
my @st;
push @st, $t->wallet_req('POST', '/wallet/restore', undef, { code => $other->{code} })->{status} for 1 .. 2;
is_deeply(\@st, [404, 429], 'more than 6 restores a minute from one address: 429');
$r = $t->wallet_req('POST', '/wallet/restore', undef, { code => $w->{code} });
is($r->{status}, 429, '... the right code too, until the minute is over');
is($r->{headers}{'retry-after'}, '60', '... Retry-After: 60');
is(cookie_of($r, 'bitcache_wallet'), '', '... no cookie');

# ---- forget ----
$r = $ua->request('POST', $t->url('/bitcache/wallet/forget'), { headers => { Cookie => "bitcache_wallet=$w->{code}" }, content => '' });
is($r->{status}, 303, 'forget: 303');
like($r->{headers}{location}, qr{^(http://127\.0\.0\.1:\d+)?/bitcache/wallet$}, '... to the wallet page');
like(cookie_of($r, 'bitcache_wallet'), qr/^bitcache_wallet=; Path=\/; Max-Age=0;.*HttpOnly/, '... the cookie cleared');
$r = $t->wallet_req('POST', '/wallet/forget');
is($r->{status}, 200, 'forget (JSON): 200');
is($r->{json}{forgotten}, JSON::PP::true, '... forgotten');

unlike($t->error_log . $t->access_log, qr/\Q$w->{code}\E|\Q$bcode\E/, 'no recovery code in the logs');
$t->check_log_clean;
done_testing;
