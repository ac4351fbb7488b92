#!/usr/bin/perl
# The wallet from a script (docs/wallet.md "Scripts"): Authorization:
# Bitcache <code> reads the balance, buys over the API, and a plain GET of a
# sold file buys it when the location allows auto-buy and the price is at
# most the wallet's max_auto_price: the exact bytes come in the same
# answer, a second GET does not charge again. A wrong code is 401, never a
# file; a location without auto-buy answers 402 with the balance; Redis
# down is 503. And the 402 page a browser with the wallet cookie sees.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use POSIX ();
use BcTest;

my $t = BcTest->new;
$t->start_redis;
my %file = map { $_ => $t->make_file("files/$_.bin", 30_000 + 1000 * length $_) } qw(a b c d e);
$file{dear} = $t->make_file('dear/x.bin', 5000);
$file{noauto} = $t->make_file('noauto/n.bin', 7000);
$t->start_nginx($t->wallet_http(<<'LOC', price => 1000));
        bitcache_wallets on;
        location /files/ { bitcache on; bitcache_wallet_autobuy on; bitcache_max_downloads 3; }
        location /dear/ { bitcache on; bitcache_price 50000; bitcache_wallet_autobuy on; }
        location /noauto/ { bitcache on; }
LOC

# a wallet, topped up
my $w = $t->wallet_open;
my $code = $w->{code};
like($code, qr/^bcw1[02-9ac-hj-np-z]{38}$/, 'a recovery code');
is($t->wallet_balance($code), 0, 'a new wallet holds 0 sats');
$t->wallet_topup_paid($code, 100_000);
is($t->wallet_balance($code), 100_000, 'the paid top-up is credited: 100000 sats');
my $bal = 100_000;
my $auth = { Authorization => "Bitcache $code" };

# max_auto_price is 0 until the owner sets it: nothing is auto-bought
my $r = $t->get('/files/a.bin', %$auth);
is($r->{status}, 402, 'max_auto_price 0: a GET buys nothing (402)');
like($r->{content}, qr/max_auto_price/, '... and says why');
is($t->wallet_balance($code), $bal, '... no charge');

is($t->wallet_req('POST', '/wallet/settings', $code, 'max_auto_price=5000')->{status}, 200,
   'max_auto_price set to 5000');
my ($st, $j);

# buy over the API: the offer of the 402, POSTed with a key
$r = $t->get('/files/c.bin', Accept => 'application/json');
my $offer = eval { JSON::PP::decode_json($r->{content})->{offer} };
ok($offer, 'the 402 carries an offer');
$r = $t->wallet_req('POST', '/wallet/buy', $code, { offer => $offer, key => 'k1' });
($st, $j) = ($r->{status}, $r->{json});
is($st, 200, 'POST /wallet/buy: 200');
is($j->{state}, 'bought', 'state bought');
$bal -= 1000;
is($j->{balance_sats}, $bal, 'the balance after it is in the answer');
my $ctok = $j->{token};
$r = $t->get("/files/c.bin?bitcache_token=$ctok");
is($r->{status}, 200, 'its token downloads');
ok($r->{content} eq $file{c}, '... the exact bytes');
$r = $t->wallet_req('POST', '/wallet/buy', $code, { offer => $offer, key => 'k1' });
is($r->{status}, 200, 'the same key again: 200');
is($r->{json}{token}, $j->{token}, '... the same token');
is($t->wallet_balance($code), $bal, '... and no second charge');

# auto-buy: a plain GET with the header buys and downloads
$r = $t->get('/files/a.bin', %$auth);
is($r->{status}, 200, 'auto-buy: GET with Authorization answers 200');
ok($r->{content} eq $file{a}, '... with the exact bytes of the file');
$bal -= 1000;
is($t->wallet_balance($code), $bal, '... for the price: 1000 sats');
$r = $t->get('/files/a.bin', %$auth);
is($r->{status}, 200, 'a second GET: 200');
ok($r->{content} eq $file{a}, '... the exact bytes again');
is($t->wallet_balance($code), $bal, '... and no second charge (owned)');
$r = $t->get('/files/a.bin', %$auth, Range => 'bytes=100-199');
is($r->{status}, 206, 'a Range of an owned file: 206');
ok($r->{content} eq substr($file{a}, 100, 100), '... the exact range');

# ten parallel GETs of one new file: it is paid once, and its token serves
# what it allows (bitcache_max_downloads 3), the others get 402
my @kids;
for my $i (1 .. 10) {
    my $pid = fork // die;
    if (!$pid) {
        my $r = $t->get('/files/e.bin', %$auth);
        POSIX::_exit($r->{status} == 200 && $r->{content} eq $file{e} ? 0
                     : $r->{status} == 402 ? 2 : 1);
    }
    push @kids, $pid;
}
my @rc = map { waitpid($_, 0); $? >> 8 } @kids;
is(scalar(grep { $_ == 0 } @rc), 3, 'ten parallel auto-buy GETs of one file: three exact copies (max_downloads 3)');
is(scalar(grep { $_ == 2 } @rc), 7, '... seven 402s');
$bal -= 1000;
is($t->wallet_balance($code), $bal, '... and one charge');

# the cookie never auto-buys: another site's <img src> or link of a sold
# file, loaded by the buyer's browser, spends nothing
$r = $t->get('/files/b.bin', Cookie => "bitcache_wallet=$code");
is($r->{status}, 402, 'GET with the wallet cookie (no Authorization): 402, nothing bought');
is($t->wallet_balance($code), $bal, '... no charge');

# HEAD never buys
$r = $t->http('HEAD', '/files/b.bin', %$auth);
is($r->{status}, 402, 'HEAD with Authorization: 402, nothing bought');
is($t->wallet_balance($code), $bal, '... no charge');

# above max_auto_price: refused, saying so
$r = $t->get('/dear/x.bin', %$auth, Accept => 'application/json');
is($r->{status}, 402, 'price 50000 above max_auto_price 5000: 402');
$j = eval { JSON::PP::decode_json($r->{content}) } || {};
like($j->{reason} // '', qr/max_auto_price/, '... the reason says so');
is($j->{balance_sats}, $bal, '... with the balance');
is($t->wallet_balance($code), $bal, '... no charge');

# no auto-buy in the location: 402 with the wallet's balance, no charge
$r = $t->get('/noauto/n.bin', %$auth, Accept => 'application/json');
is($r->{status}, 402, 'no bitcache_wallet_autobuy: 402');
$j = eval { JSON::PP::decode_json($r->{content}) } || {};
is($j->{balance_sats}, $bal, '... showing the balance');
like($j->{buy_url} // '', qr{^/bitcache/wallet/buy$}, '... and where to buy');
is($t->wallet_balance($code), $bal, '... no charge');

# wrong codes: 401, never a file, never a charge
my $other = $t->wallet_open->{code};
for my $case (['a code with a typo', substr($code, 0, -1) . (substr($code, -1) eq 'q' ? 'p' : 'q')],
              ['garbage', 'x' x 40],
              ['empty', '']) {
    my ($name, $c) = @$case;
    $r = $t->get('/files/b.bin', Authorization => "Bitcache $c");
    is($r->{status}, 401, "$name: 401");
    like($r->{headers}{'www-authenticate'} // '', qr/^Bitcache\b/, "$name: WWW-Authenticate: Bitcache");
    ok($r->{content} ne $file{b} && length($r->{content}) < 2000, "$name: no file");
}
# a well-formed code of no wallet
my $gone = $t->wallet_open;
$t->redis('DEL', "bitcache:wal:$gone->{wallet}");
$r = $t->get('/files/b.bin', Authorization => "Bitcache $gone->{code}");
is($r->{status}, 401, 'a code of no wallet: 401');
like($r->{headers}{'www-authenticate'} // '', qr/^Bitcache\b/, '... WWW-Authenticate: Bitcache');
is($t->wallet_balance($code), $bal, 'no charge to anyone');

# a wallet too poor: 402 "balance too low", with the top-up link
$t->wallet_req('POST', '/wallet/settings', $other, 'max_auto_price=5000');
$r = $t->get('/files/b.bin', Authorization => "Bitcache $other", Accept => 'application/json');
is($r->{status}, 402, 'an empty wallet: 402');
$j = eval { JSON::PP::decode_json($r->{content}) } || {};
is($j->{reason}, 'balance too low', '... balance too low');
is($j->{wallet_url}, '/bitcache/wallet', '... the wallet page to top up');

# the 402 page of a browser with the wallet cookie
my $cookie = "bitcache_wallet=$code";
$r = $t->get('/files/d.bin', Cookie => $cookie);
is($r->{status}, 402, 'the page with the wallet cookie: 402');
my $html = $r->{content};
like($html, qr{id="balance-sats">$bal<}, '... shows the balance');
like($html, qr{<form id="buy-form" method="post" action="/bitcache/wallet/buy">}, '... a Buy form (POST)');
like($html, qr{Buy for 1000 sats}, '... "Buy for 1000 sats"');
my ($key1) = $html =~ /name="key" value="([A-Za-z0-9_-]+)"/;
my ($key2) = $t->get('/files/d.bin', Cookie => $cookie)->{content} =~ /name="key" value="([A-Za-z0-9_-]+)"/;
ok($key1 && $key2 && $key1 ne $key2, 'a fresh idempotency key per page');
like($r->{headers}{'content-security-policy'} // '', qr/script-src 'nonce-/, '... under the page\'s CSP');
unlike($html, qr/\Q$code\E/, 'the page never shows the code');
# an owned product: "Download again", free
$html = $t->get('/files/a.bin', Cookie => $cookie)->{content};
like($html, qr{Download again}, 'owned: "Download again"');
unlike($html, qr{name="again"}, '... which buys nothing anew');
# too poor
$html = $t->get('/files/d.bin', Cookie => "bitcache_wallet=$other")->{content};
like($html, qr{Balance too low: <a id="topup" href="/bitcache/wallet">top up</a>}, 'too poor: the top-up link');
unlike($html, qr{id="buy-form"}, '... no Buy form');
# no wallet
$html = $t->get('/files/d.bin')->{content};
like($html, qr{<a id="wallet-link" href="/bitcache/wallet">Pay from a Bitcache wallet</a>}, 'no wallet: the link');
unlike($html, qr{id="buy-form"}, '... no Buy form');
# the page's form, as a browser sends it: 303 to the download, the token cookie
my ($form_offer) = $t->get('/files/d.bin', Cookie => $cookie)->{content} =~ /name="offer" value="([^"]+)"/;
my $post = sub {    # raw() sends Host: 127.0.0.1
    my ($origin) = @_;
    return $t->raw('POST', '/bitcache/wallet/buy', "offer=$form_offer&key=$key1",
                   Cookie => $cookie, 'Content-Type' => 'application/x-www-form-urlencoded',
                   Origin => $origin);
};
$r = $post->('http://evil.example');
is($r->{status}, 403, 'the Buy form posted from another site: 403');
is($t->wallet_balance($code), $bal, '... no charge');
$r = $post->('http://127.0.0.1');
is($r->{status}, 303, 'the Buy form: 303');
my ($tok) = join("\n", @{ $r->{headers}{'set-cookie'} || [] }) =~ /bitcache_token=([A-Za-z0-9_-]+)/;
ok($tok, '... with the token cookie');
$bal -= 1000;
is($t->wallet_balance($code), $bal, '... charged 1000');
$r = $t->get('/files/d.bin', Cookie => "bitcache_token=$tok");
ok($r->{status} == 200 && $r->{content} eq $file{d}, '... and the token downloads the exact bytes');

# a Redis writer who raises a balance, or plants an ownership, gets nothing:
# the state's and the ownership's MACs are the module's
my $rich = $t->wallet_open;
$t->wallet_credit($rich->{wallet}, 500);
$t->wallet_req('POST', '/wallet/settings', $rich->{code}, 'max_auto_price=5000');
$t->redis('HSET', "bitcache:wal:$rich->{wallet}", 'bal', 900_000);
$r = $t->get('/files/b.bin', Authorization => "Bitcache $rich->{code}");
is($r->{status}, 403, 'a balance raised in Redis: 403');
ok($r->{content} ne $file{b}, '... no file');
my $poor2 = $t->wallet_open;
$t->wallet_req('POST', '/wallet/settings', $poor2->{code}, 'max_auto_price=5000');
my $owned = $t->redis('HGET', "bitcache:wown:$w->{wallet}", '/files/a.bin');
ok($owned, 'an ownership of the first wallet');
$t->redis('HSET', "bitcache:wown:$poor2->{wallet}", '/files/b.bin', $owned);
$r = $t->get('/files/b.bin', Authorization => "Bitcache $poor2->{code}");
isnt($r->{status}, 200, 'an ownership copied to another wallet and product: no file');
ok($r->{content} ne $file{b}, '... no bytes of it');

# a purchase whose bytes are used up: "Buy again", with again=1
$t->get("/files/c.bin?bitcache_token=$ctok") for 1 .. 2;    # 3 downloads in all
$r = $t->get('/files/c.bin', Cookie => "bitcache_token=$ctok; bitcache_wallet=$code");
is($r->{status}, 402, 'the token used up: 402');
like($r->{content}, qr{Buy again for 1000 sats}, '... "Buy again for 1000 sats"');
like($r->{content}, qr{<input type="hidden" name="again" value="1">}, '... a form with again=1');
my ($aoffer) = $r->{content} =~ /name="offer" value="([^"]+)"/;
my ($akey) = $r->{content} =~ /name="key" value="([^"]+)"/;
$bal = $t->wallet_balance($code);
$r = $t->raw('POST', '/bitcache/wallet/buy', "offer=$aoffer&key=$akey&again=1",
             Cookie => "bitcache_wallet=$code", 'Content-Type' => 'application/x-www-form-urlencoded');
is($r->{status}, 303, '... which buys it anew: 303');
$bal -= 1000;
is($t->wallet_balance($code), $bal, '... for its price');
($tok) = join("\n", @{ $r->{headers}{'set-cookie'} || [] }) =~ /bitcache_token=([A-Za-z0-9_-]+)/;
$r = $t->get('/files/c.bin', Cookie => "bitcache_token=$tok");
ok($r->{status} == 200 && $r->{content} eq $file{c}, '... and its new token downloads the exact bytes');

# a frozen wallet (an audit found it does not add up): no purchase
my $fz = $t->wallet_open;
$t->wallet_credit($fz->{wallet}, 5000);
$t->wallet_req('POST', '/wallet/settings', $fz->{code}, 'max_auto_price=5000');
$t->redis('HSET', "bitcache:wal:$fz->{wallet}", 'frozen', 'the ledger does not add up');
$r = $t->get('/files/b.bin', Authorization => "Bitcache $fz->{code}");
is($r->{status}, 403, 'frozen: auto-buy refused (403)');
$html = $t->get('/files/b.bin', Cookie => "bitcache_wallet=$fz->{code}")->{content};
like($html, qr{This wallet is frozen: the ledger does not add up}, 'frozen: the page says why');
unlike($html, qr{id="buy-form"}, '... no Buy form');
is($t->wallet_balance($fz->{code}), 5000, '... nothing spent');

# no code in any log
my $logs = $t->error_log . $t->access_log;
unlike($logs, qr/\Q$code\E|\Q$other\E/, 'no recovery code in the logs');

# Redis down: 503 with Retry-After, never the file
$t->_stop('redis', 'TERM');
$r = $t->get('/files/e.bin', %$auth);
is($r->{status}, 503, 'Redis down: 503');
ok($r->{headers}{'retry-after'}, '... with Retry-After');
ok($r->{content} ne $file{e}, '... and no file');

$t->check_log_clean;
done_testing;
