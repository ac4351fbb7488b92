#!/usr/bin/perl
# Selling end to end on real nginx and redis-server: the 402 carries a
# signed offer; POST makes an invoice with the creator's next address;
# the status endpoint mints a token only for a payment the watcher's key
# attested (signed here by an independent implementation, t/node/attest.js,
# the way the watcher will), and the token downloads the exact file.
# Redis is not trusted: a lower price, a swapped address or a "paid" without
# a valid signature gets no token, and the log says why.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP qw(decode_json encode_json);
use Digest::SHA qw(sha256_hex);
use BcTest;
use ProtocolRef qw(keys_of offer product_mac);

my $TPUB = 'tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5';
my $WALLET = "wpkh($TPUB/0/*)";
my $WATCHER = '11' x 32;
my $OTHER = '22' x 32;

sub attest {
    my (@args) = @_;
    my $out = `node t/node/attest.js @args`;
    die "attest.js failed" if $?;
    chomp $out;
    return $out;
}

my $t = BcTest->new;
$t->start_redis;
my $book = $t->make_file('files/book.pdf', 300_000);
my $xonly = attest('pubkey', $WATCHER);

my $http = <<"CONF";
    bitcache_redis %%REDIS%% timeout=500ms;
    limit_req_zone \$binary_remote_addr zone=invoices:1m rate=60r/m;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;

        location /files/ {
            bitcache on;
            bitcache_price 12345;
            bitcache_wallet "$WALLET";
            bitcache_confirmations 1;
            bitcache_max_downloads 2;
            bitcache_token_ttl 1h;
            bitcache_invoice_ttl 30m;
        }
        location /bitcache/ { bitcache_api; }
        location = /bitcache/invoices {
            limit_req zone=invoices burst=8 nodelay;
            limit_req_status 429;
            bitcache_api;
        }
    }
CONF
$t->start_nginx($http);

my @addr = map { [split / /] } split /\n/, `build/bitcache derive '$WALLET' --network regtest --count 3 --spk 2>/dev/null`;
is(scalar @addr, 3, 'reference addresses from bitcache derive');

sub json_of {
    my ($r) = @_;
    my $j = eval { decode_json($r->{content}) };
    ok($j, 'JSON answer') or diag $r->{content};
    return $j || {};
}

sub post_offer {
    my ($offer, %h) = @_;
    my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0);
    return $ua->request('POST', $t->url('/bitcache/invoices'), {
        headers => { 'Content-Type' => 'application/json', Accept => 'application/json', %h },
        content => encode_json({ offer => $offer }) });
}

# --- the 402 offer ------------------------------------------------------------
my $r = $t->get('/files/book.pdf', Accept => 'application/json');
is($r->{status}, 402, '402 without a token');
my $j = json_of($r);
is($j->{price_sats}, 12345, 'price from bitcache_price');
is($j->{price_btc}, '0.00012345', 'price in BTC');
is($j->{network}, 'regtest', 'network');
is($j->{invoices_url}, '/bitcache/invoices', 'where to POST');
ok($j->{offer}, 'a signed offer');
my $offer = $j->{offer};

$r = $t->get('/files/book.pdf');
is($r->{status}, 402, 'HTML 402');
like($r->{headers}{'content-security-policy'}, qr/default-src 'none'.*script-src 'nonce-[A-Za-z0-9_-]+'/, 'CSP with a nonce');
like($r->{content}, qr/0\.00012345/, 'the page shows the price');
like($r->{content}, qr/\Q$offer\E|name="offer"/, 'the page carries an offer form');

# GET never creates an invoice (crawlers, prefetch, reloads)
$t->get('/files/book.pdf') for 1 .. 10;
is(scalar @{ $t->redis('KEYS', 'bitcache:inv:*') }, 0, 'no invoice from page views');
is(scalar @{ $t->redis('KEYS', 'bitcache:index:*') }, 0, 'no address used');

# --- POST: an invoice -----------------------------------------------------------
$r = post_offer($offer);
is($r->{status}, 201, 'POST offer: 201') or diag $r->{content};
my $inv = json_of($r);
like($inv->{id}, qr/^[0-9a-f]{32}$/, '128-bit id');
is($inv->{address}, $addr[0][1], 'address at index 0 of the creator\'s wallet');
is($inv->{amount_sats}, 12345, 'amount');
is($inv->{bip21}, "bitcoin:$addr[0][1]?amount=0.00012345&label=%2Ffiles%2Fbook.pdf", 'BIP21 URI');
is($inv->{state}, 'new', 'state new');
like($r->{headers}{location}, qr{^(http://127\.0\.0\.1:\d+)?/bitcache/invoices/$inv->{id}$}, 'Location');

my %rec = @{ $t->redis('HGETALL', "bitcache:inv:$inv->{id}") };
is($rec{spk}, $addr[0][2], 'scriptPubKey stored');
is($rec{amount}, 12345, 'amount stored');
is($rec{index}, 0, 'index stored');
is($t->redis('GET', "bitcache:spk:$addr[0][2]"), $inv->{id}, 'spk: entry for the watcher');
my $ttl = $t->redis('TTL', "bitcache:inv:$inv->{id}");
ok($ttl > 1800 && $ttl <= 1800 + 86400, "invoice expires after its TTL + grace ($ttl s)");

# the same via a form post: 303 to the invoice page, next address
my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0);
$r = $ua->post_form($t->url('/bitcache/invoices'), { offer => $offer });
is($r->{status}, 303, 'form POST: 303');
my ($id2) = ($r->{headers}{location} || '') =~ m{/bitcache/invoices/([0-9a-f]{32})$};
ok($id2, 'to the invoice page');
my ($claim2) = ($r->{headers}{'set-cookie'} || '') =~ /^bitcache_claim=([A-Za-z0-9_-]+);/;
ok($claim2, 'with its claim cookie');
$r = $t->get("/bitcache/invoices/$id2", Accept => 'application/json', Cookie => "bitcache_claim=$claim2");
is(json_of($r)->{address}, $addr[1][1], 'the second invoice gets index 1');
$r = $t->get("/bitcache/invoices/$id2", Cookie => "bitcache_claim=$claim2");
is($r->{status}, 200, 'invoice page');
like($r->{content}, qr/\Q$addr[1][1]\E/, 'shows the address');
like($r->{content}, qr/<svg/, 'with the QR code');

# bad offers
my $bad = $offer;
substr($bad, 30, 1) = substr($bad, 30, 1) eq 'A' ? 'B' : 'A';
$r = post_offer($bad);
is($r->{status}, 400, 'tampered offer: 400');
like($r->{content}, qr/bad offer MAC|malformed offer/, 'says why');
my $k = keys_of($t->secret_bytes);
my $old = offer($k, { issued => time - 4000, price => 1, confirmations => 0, invoice_ttl => 60,
                      token_ttl => 60, max_downloads => 1, network => 3, wallet => $WALLET,
                      product => '/files/book.pdf', title => 'x' });
$r = post_offer($old);
is($r->{status}, 400, 'an offer older than an hour: 400');
like($r->{content}, qr/offer expired/, 'says expired');
my $cheap = offer(keys_of("\x00" x 32), { issued => time, price => 1, confirmations => 0, invoice_ttl => 60,
                      token_ttl => 60, max_downloads => 1, network => 3, wallet => $WALLET,
                      product => '/files/book.pdf', title => 'x' });
$r = post_offer($cheap);
is($r->{status}, 400, 'a price of 1 sat offered under another secret: 400');
$r = $ua->request('POST', $t->url('/bitcache/invoices'), { content => 'nothing=here',
                  headers => { 'Content-Type' => 'application/x-www-form-urlencoded' } });
is($r->{status}, 400, 'no offer: 400');
is($t->get('/bitcache/invoices', Accept => 'application/json')->{status}, 405, 'GET on the create URL: 405');
is($t->get('/bitcache/invoices/' . ('ab' x 16), Accept => 'application/json')->{status}, 404, 'unknown invoice: 404');
is($t->get('/bitcache/nothing')->{status}, 404, 'unknown API path: 404');

# --- the status endpoint never trusts Redis alone ---------------------------------
my $id = $inv->{id};
my $spk = $addr[0][2];
my $now = time;
# the buyer's own polls prove the invoice's claim (t/51 checks everyone else)
sub status { json_of($t->get("/bitcache/invoices/$id", Accept => 'application/json',
                             'X-Bitcache-Claim' => $inv->{claim})) }
sub paid {
    my (%f) = @_;
    $t->redis('HSET', "bitcache:inv:$id", %f);
}

is(status()->{state}, 'new', 'unpaid: new');
ok(!exists status()->{token}, 'no token');

paid(state => 'paid', received => 12345, conf => 1, paid_at => $now);
my $s = status();
is($s->{state}, 'unverified', '"paid" without an attestation: unverified');
ok(!$s->{token}, 'no token');
like($t->error_log, qr/invoice $id marked paid, no token: no watcher attestation/, 'log: no attestation');

paid(att => attest('sign', $OTHER, $id, $spk, 12345, 1, $now));
ok(!status()->{token}, 'signed by another key: no token');
like($t->error_log, qr/invoice $id marked paid, no token: attestation does not verify/, 'log: bad attestation');

paid(att => attest('sign', $WATCHER, $id, $spk, 12345, 1, $now + 1));
ok(!status()->{token}, 'a signature over another paid_at: no token');

paid(received => 100, att => attest('sign', $WATCHER, $id, $spk, 100, 1, $now));
ok(!status()->{token}, 'underpaid (attested): no token');
is(status()->{bip21}, "bitcoin:$addr[0][1]?amount=0.00012245&label=%2Ffiles%2Fbook.pdf", 'the QR asks for the rest');
like($t->error_log, qr/no token: received 100 < amount 12345/, 'log: underpaid');

paid(received => 12345, conf => 0, att => attest('sign', $WATCHER, $id, $spk, 12345, 0, $now));
ok(!status()->{token}, 'unconfirmed: no token');
like($t->error_log, qr/no token: 0 of 1 confirmations/, 'log: confirmations');

# someone with Redis lowers the price, or swaps the address, and "pays"
paid(amount => 100, received => 100, conf => 1, att => attest('sign', $WATCHER, $id, $spk, 100, 1, $now));
ok(!status()->{token}, 'price lowered in Redis: no token');
like($t->error_log, qr/invoice $id is invalid: invoice MAC does not verify/, 'log: MAC');
paid(amount => 12345, address => $addr[2][1], spk => $addr[2][2],
     received => 12345, att => attest('sign', $WATCHER, $id, $addr[2][2], 12345, 1, $now));
ok(!status()->{token}, 'address swapped in Redis: no token');

# --- the real thing ----------------------------------------------------------------
paid(address => $addr[0][1], spk => $spk, received => 12400, conf => 2, paid_at => $now,
     att => attest('sign', $WATCHER, $id, $spk, 12400, 2, $now));
$r = $t->get("/bitcache/invoices/$id", Accept => 'application/json', 'X-Bitcache-Claim' => $inv->{claim});
$s = json_of($r);
is($s->{state}, 'paid', 'attested payment: paid');
like($s->{token}, qr/^[A-Za-z0-9_-]+$/, 'a token');
is($s->{download_url}, "/files/book.pdf?bitcache_token=$s->{token}", 'download link');
my $cookie = $r->{headers}{'set-cookie'};
like($cookie, qr/^bitcache_token=\Q$s->{token}\E; Path=\/files\/book\.pdf; Max-Age=\d+; HttpOnly; SameSite=Lax$/, 'Set-Cookie');
unlike($cookie, qr/Secure/, 'not Secure on plain HTTP');
is(status()->{token}, $s->{token}, 'polling again: the same token');

$r = $t->get($s->{download_url});
is($r->{status}, 200, 'the token downloads');
is(sha256_hex($r->{content}), sha256_hex($book), 'exact bytes');
is(status()->{token}, $s->{token}, 'polling after a download does not reset it');
$r = $t->get('/files/book.pdf', Cookie => "bitcache_token=$s->{token}");
is($r->{status}, 200, 'cookie: second download');
is($t->get($s->{download_url})->{status}, 402, 'max_downloads 2: the third is refused');
is($t->get('/files/other.pdf', Cookie => "bitcache_token=$s->{token}")->{status}, 402, 'not valid for another file');

$r = $t->get("/bitcache/invoices/$id", Cookie => "bitcache_claim=$inv->{claim}");
like($r->{content}, qr/\Q$s->{download_url}\E|bitcache_token=/, 'the HTML page shows the download link');
unlike($t->access_log . $t->error_log, qr/\Q$s->{token}\E/, 'the token is in no log');

# --- catalog records: the creator changes the price without a reload ----------
my $mac = unpack('H*', product_mac($k, '/files/book.pdf', 500, '', 'Cheap Book'));
$t->redis('HSET', 'bitcache:prod:/files/book.pdf', price => 500, wallet => '', title => 'Cheap Book', mac => $mac);
$j = json_of($t->get('/files/book.pdf', Accept => 'application/json'));
is($j->{price_sats}, 500, 'catalog record: new price');
is($j->{title}, 'Cheap Book', 'and title');
$r = post_offer($j->{offer});
is(json_of($r)->{amount_sats}, 500, 'invoices follow it');
$t->redis('HSET', 'bitcache:prod:/files/book.pdf', price => 1);
$j = json_of($t->get('/files/book.pdf', Accept => 'application/json'));
is($j->{price_sats}, 12345, 'a record changed without the secret is ignored');
like($t->error_log, qr/catalog record of "\/files\/book.pdf" ignored/, 'and logged');

# --- rate limit on invoice creation (conf.example shows it) ---------------------
my %codes;
$codes{ post_offer($offer)->{status} }++ for 1 .. 15;
ok($codes{429}, "invoice creation is rate-limited per client (@{[ join ', ', map { \"$_ x$codes{$_}\" } sort keys %codes ]})");

# --- Redis down: fail closed ---------------------------------------------------------
$t->stop_redis;
is($t->get('/files/book.pdf', Accept => 'application/json')->{status}, 503, 'Redis down: the page is 503');
is($t->get("/bitcache/invoices/$id", Accept => 'application/json')->{status}, 503, 'status: 503');

$t->stop_nginx;
$t->check_log_clean;
done_testing;
