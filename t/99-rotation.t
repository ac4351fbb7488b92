#!/usr/bin/perl
# Key rotation (docs/operations.md, "Rotating the secret" and "Rotating the
# watcher key"): with `bitcache_secret NEW OLD` and `bitcache_watcher_key
# NEW OLD` after a reload, everything made under the old secret or signed by
# the old watcher key keeps working (tokens, a 402 page's offer, open and
# paid invoices, catalog records, sealed keys, attestations), while what is
# made from then on is the new secret's: after the old ones are dropped the
# new keep working and the old fail with the documented answers. A regtest
# purchase goes through the watcher on its new key (an invoice made before
# the rotation, paid after it). And nginx -t refuses the bad forms.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use JSON::PP;
use BcTest;
use TokenRef;

plan skip_all => 'module or CLI not built (make all)'
    unless -f $BcTest::MODULE && -x $BcTest::CLI;

my $t = BcTest->new;
my $dir = $t->dir;
$t->start_redis;
$t->start_node;
$t->fund_wallet;
$t->{http_port} = BcTest::free_port();
my $api = "http://127.0.0.1:$t->{http_port}/bitcache";

my $a_bin = $t->make_file('files/a.bin', 40_000);
$t->make_file('files/c.bin', 1_000);
$t->make_file('files/d.bin', 1_000);
$t->make_file('films/s.bin', 20_000);
my $b_bin = $t->make_file('slow/b.bin', 30_000);
$t->make_file('gifts/g.bin', 1_000);

my (undef, $old_pub) = $t->watcher_key;
my $new_sec = unpack 'H*', join '', map { chr int rand 256 } 1 .. 32;
my $new_pub = `$BcTest::TOOLS/pay_invoice --pubkey $new_sec`;
chomp $new_pub;
like($new_pub, qr/^[0-9a-f]{64}$/, 'a new watcher key');

my $locations = <<'LOC';
        location /files/ {
            bitcache on;
            bitcache_confirmations 1;
            bitcache_invoice_ttl 30m;
        }
        location /films/ { bitcache on; }
        location /gifts/ {
            bitcache on;
            bitcache_free_first 5;
            bitcache_free_per_address 1h;
        }
        location /slow/ {
            bitcache on;
            bitcache_confirmations 2;
            bitcache_invoice_ttl 30m;
        }
LOC
# the selling server with these bitcache_secret and bitcache_watcher_key
sub conf {
    my ($secret, $wkey) = @_;
    my $http = $t->wallet_http($locations);
    $http =~ s{bitcache_secret \S+;}{bitcache_secret $secret;} or die;
    $http =~ s{bitcache_watcher_key \S+;}{bitcache_watcher_key $wkey;} or die;
    return $http;
}
# writes the configuration and reloads nginx; waits until a token of
# $probe's secret is taken (the new workers) or refused ($want 402)
# and until the old workers are gone (they answer until they exit)
sub workers { map { /(\d+)/ ? $1 : () } `ps -o pid= --ppid $t->{nginx_pid}` }
sub reload {
    my ($http, $probe, $want) = @_;
    my @old = workers();
    $t->write_file('nginx.conf', $t->nginx_conf($http));
    kill 'HUP', $t->{nginx_pid};
    ok(BcTest::wait_until(sub { !grep { kill 0, $_ } @old }, 20), 'reloaded: the old workers exited');
    ok(BcTest::wait_until(sub {
        $t->get("/files/a.bin?bitcache_token=$probe")->{status} == $want }, 10),
       "  a probe token answers $want");
}
sub json_of { my ($r) = @_; eval { decode_json($r->{content}) } || {} }
sub tid { TokenRef::parse_token($_[0])->{id} }
sub offer_of { json_of($t->get($_[0], Accept => 'application/json')) }
sub post_offer { $t->post_invoice($_[0]) }
sub key_fetch {
    my ($product, $token) = @_;
    return $t->raw('GET', "/bitcache/keys$product?bitcache_token=$token");
}
sub free_claim {
    my $r = $t->wallet_req('POST', '/free', undef, { offer => offer_of('/gifts/g.bin')->{offer} });
    return $r->{status};
}
sub cli_ok {
    my ($what, @args) = @_;
    my ($rc, $out, $err) = $t->cli(@args);
    is($rc, 0, $what) or diag $err;
    return $out;
}

# --- before: the old secret and the old watcher key alone ---------------------
$t->start_nginx(conf('%%DIR%%/secret', $old_pub));

my $r;
my $tok_old = $t->grant('/files/a.bin', '--uses', 0);
is($t->get("/files/a.bin?bitcache_token=$tok_old")->{status}, 200, 'old secret: a token');
my $offer_old = offer_of('/files/a.bin')->{offer};
ok($offer_old, 'a 402 page\'s offer, kept for later');
my $inv_open = $t->new_invoice('/files/a.bin');     # paid after the rotation (watcher)
my $inv_paid = $t->new_invoice('/files/a.bin');
$t->pay_invoice($inv_paid->{id}, 12345, 1);
my $st = $t->invoice_status($inv_paid->{id});
is($st->{state}, 'paid', 'an invoice paid under the old watcher key');
my $tok_paid_old = $st->{token};
ok($tok_paid_old, '  its token');

cli_ok('a catalog record under the old secret', 'product', 'set', '/files/c.bin', '--price', 777,
       '--secret', "$dir/secret", '--redis', $t->redis_addr);
is(offer_of('/files/c.bin')->{price_sats}, 777, '  its price is the 402\'s');

$t->seal('films/s.bin', "$dir/s1.sealed", '/films/s.bin', $api);
my $tok_film_old = $t->grant('/films/s.bin', '--uses', 0);
my $key_old = json_of(key_fetch('/films/s.bin', $tok_film_old))->{key};
like($key_old // '', qr/^[0-9a-f]{64}$/, 'a sealed file\'s key under the old secret');
my %sk_old = @{ $t->redis('HGETALL', 'bitcache:sealkey:/films/s.bin') };

is(free_claim(), 201, 'old secret: a free copy for this address');
is(free_claim(), 429, '  one per address');

# a wallet, credited and spent under the old secret
my $w = $t->wallet_open;
$t->wallet_credit($w->{wallet}, 50_000);
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => offer_of('/files/a.bin')->{offer} });
is($r->{json}{state}, 'bought', 'old secret: a wallet buys') or diag $r->{content};
my ($w_idle, $w_idle2) = ($t->wallet_open, $t->wallet_open);     # not used while rotating
$t->wallet_credit($_->{wallet}, 20_000) for $w_idle, $w_idle2;

# the watcher on its old key sees a payment mined once of two confirmations
my $inv_slow = $t->new_invoice('/slow/b.bin');
$t->start_watcher;
$t->send_sats($inv_slow->{address}, 12345);
$t->mine(1);
ok(BcTest::wait_until(sub { ($t->invoice($inv_slow->{id})->{conf} // '') eq '1' }, 20),
   'the old watcher key: 1 of 2 confirmations recorded') or diag $t->watcher_log;
ok(!$t->invoice_status($inv_slow->{id})->{token}, '  no token yet');
$t->stop_watcher;

# --- nginx -t: the bad forms --------------------------------------------------
$t->write_file('secret.new', scalar `$BcTest::CLI secret`, 0600);
$t->write_file('secret.loose', scalar `$BcTest::CLI secret`, 0644);
$t->write_file('secret.short', "abcd\n", 0600);
$t->write_file('secret.copy', do { open my $f, '<', "$dir/secret" or die; local $/; <$f> }, 0600);
for my $case (
    ['%%DIR%%/secret.new %%DIR%%/secret %%DIR%%/secret.copy',
     qr/invalid number of arguments in "bitcache_secret" directive in \S+:\d+/, 'three files'],
    ['%%DIR%%/secret.new %%DIR%%/secret.loose',
     qr/"bitcache_secret": "\S+secret\.loose" is accessible by others \(mode 0644\).* in \S+:\d+/,
     'a second file readable by others'],
    ['%%DIR%%/secret.new %%DIR%%/secret.short',
     qr/"bitcache_secret": "\S+secret\.short" must hold 32 to 128 random bytes.* in \S+:\d+/,
     'a second file too short'],
    ['%%DIR%%/secret.new %%DIR%%/missing',
     qr/"bitcache_secret": cannot open "\S+missing".* in \S+:\d+/, 'a second file missing'],
    ['%%DIR%%/secret %%DIR%%/secret',
     qr/"bitcache_secret": "\S+" and "\S+" hold the same secret.* in \S+:\d+/, 'the same file twice'],
    ['%%DIR%%/secret %%DIR%%/secret.copy',
     qr/hold the same secret.* in \S+:\d+/, 'a copy of the same secret'],
) {
    my ($rc, $out) = $t->nginx_test(conf($case->[0], $old_pub), 'bad.conf');
    isnt($rc, 0, "nginx -t refuses $case->[2]");
    like($out, $case->[1], "  and names the directive, file and line") or diag $out;
}
for my $case (
    ["$new_pub $old_pub $old_pub",
     qr/invalid number of arguments in "bitcache_watcher_key" directive in \S+:\d+/, 'three keys'],
    ["$new_pub 1234", qr/"bitcache_watcher_key": "1234" is not an x-only public key.* in \S+:\d+/,
     'a bad second key'],
    ["$old_pub $old_pub", qr/"bitcache_watcher_key": the same key twice.* in \S+:\d+/,
     'the same key twice'],
) {
    my ($rc, $out) = $t->nginx_test(conf('%%DIR%%/secret', $case->[0]), 'bad.conf');
    isnt($rc, 0, "nginx -t refuses $case->[2]");
    like($out, $case->[1], "  and names the directive, file and line") or diag $out;
}
my ($rc, $out) = $t->nginx_test(conf('%%DIR%%/secret.new %%DIR%%/secret', "$new_pub $old_pub"), 'good.conf');
is($rc, 0, 'nginx -t takes two secrets and two watcher keys') or diag $out;

# --- the rotation: the new secret first, the old one second ------------------
rename "$dir/secret", "$dir/secret.old" or die;
rename "$dir/secret.new", "$dir/secret" or die;     # the CLI helpers sign with it
my $tok_new = $t->grant('/files/a.bin', '--uses', 0);
is($t->get("/files/a.bin?bitcache_token=$tok_new")->{status}, 402,
   'before the reload a new secret\'s token is refused');
reload(conf('%%DIR%%/secret %%DIR%%/secret.old', "$new_pub $old_pub"), $tok_new, 200);

$r = $t->get("/files/a.bin?bitcache_token=$tok_old");
is($r->{status}, 200, 'rotating: the old token downloads');
ok($r->{content} eq $a_bin, '  the exact bytes');
$r = $t->wallet_req('GET', '/wallet', $w->{code});
is($r->{json}{balance_sats}, 50_000 - 12345, 'rotating: the old wallet\'s balance') or diag $r->{content};
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => offer_of('/slow/b.bin')->{offer} });
is($r->{json}{state}, 'bought', '  it buys (its state signed again under the new secret)') or diag $r->{content};
is($t->get($r->{json}{download_url} // '/slow/b.bin')->{status}, 200, '  the purchase downloads');
$out = cli_ok('wallet audit --old-secret', 'wallet', 'audit', '--secret', "$dir/secret",
              '--old-secret', "$dir/secret.old", '--watcher-key', $old_pub, '--no-freeze',
              '--redis', $t->redis_addr, $w->{wallet});
like($out, qr/^audit: ok, it adds up$/m, '  its ledger adds up (entries of both secrets)') or diag $out;
is($t->get("/files/a.bin?bitcache_token=$tok_paid_old")->{status}, 200,
   'rotating: the old paid invoice\'s token downloads');

# an offer makes something of the current secret with the offer's terms: only
# the current secret's offers are taken (t/99-rotation-redis-attacks.t)
$r = post_offer($offer_old);
is($r->{status}, 400, 'rotating: the old page\'s offer makes no invoice (400)') or diag $r->{content};
like($r->{content}, qr/rotated out: reload the page/, '  says to reload the page');

$st = $t->invoice_status($inv_paid->{id});
is($st->{state}, 'paid', 'rotating: the invoice paid before is paid');
is($st->{token}, $tok_paid_old, '  its token is the same, under the invoice\'s own (old) secret')
    or diag explain $st;
is(tid($st->{token} // $tok_paid_old), tid($tok_paid_old), '  with the same id (the same downloads)');
my $tok_paid_new = $st->{token};

is(free_claim(), 429, 'rotating: the address that took a free copy under the old secret is seen');
is(offer_of('/files/c.bin')->{price_sats}, 777, 'rotating: the old catalog record sells');
cli_ok('a catalog record under the new secret', 'product', 'set', '/files/d.bin', '--price', 888,
       '--secret', "$dir/secret", '--redis', $t->redis_addr);
is(offer_of('/files/d.bin')->{price_sats}, 888, '  sells');

is(json_of(key_fetch('/films/s.bin', $tok_film_old))->{key}, $key_old,
   'rotating: the old sealed key is given for the old token');
my $tok_film_new = $t->grant('/films/s.bin', '--uses', 0);
$r = key_fetch('/films/s.bin', $tok_film_new);
is(json_of($r)->{key}, $key_old, '  and for a new one') or diag $r->{head}, $r->{content};

# the CLI with --old-secret
$out = cli_ok('product list --old-secret', 'product', 'list', '--secret', "$dir/secret",
              '--old-secret', "$dir/secret.old", '--redis', $t->redis_addr);
like($out, qr{^/files/c\.bin\s.*\sok$}m, '  the old record verifies') or diag $out;
$out = cli_ok('product list (new secret alone)', 'product', 'list', '--secret', "$dir/secret",
              '--redis', $t->redis_addr);
like($out, qr{^/files/c\.bin\s.*BAD MAC$}m, '  the old record does not verify without it') or diag $out;
$out = cli_ok('invoice show --old-secret', 'invoice', 'show', '--secret', "$dir/secret",
              '--old-secret', "$dir/secret.old", '--watcher-key', $old_pub, '--redis', $t->redis_addr,
              $inv_paid->{id});
like($out, qr/invoice MAC: ok/, '  the old invoice verifies') or diag $out;
$t->cli_refuses([['invoice', 'show', '--old-secret', "$dir/secret.old", '--redis', $t->redis_addr,
                  $inv_paid->{id}], qr/--old-secret needs --secret/],
                [['sales', '--secret', "$dir/secret", '--old-secret', "$dir/secret",
                  '--watcher-key', $new_pub, '--redis', $t->redis_addr], qr/hold the same secret/]);

# wallet repair --old-secret: an idle wallet's state signed again
$out = cli_ok('wallet repair --old-secret', 'wallet', 'repair', '--secret', "$dir/secret",
              '--old-secret', "$dir/secret.old", '--watcher-key', $old_pub,
              '--redis', $t->redis_addr, $w_idle->{wallet});
like($out, qr/state signed again under the new secret \(seq 1, balance 20000 sats\)/, '  says so')
    or diag $out;
$out = cli_ok('wallet repair again', 'wallet', 'repair', '--secret', "$dir/secret",
              '--old-secret', "$dir/secret.old", '--watcher-key', $old_pub,
              '--redis', $t->redis_addr, $w_idle->{wallet});
like($out, qr/adds up: nothing to repair/, '  then nothing to repair');

# seal --old-secret: the same key, wrapped again under the new secret
$out = cli_ok('seal --old-secret', 'seal', "$dir/html/films/s.bin", "$dir/s2.sealed",
              '--product', '/films/s.bin', '--host', $api, '--secret', "$dir/secret",
              '--old-secret', "$dir/secret.old", '--redis', $t->redis_addr);
like($out, qr/wrapped again under the new secret/, '  says it wrapped the key again');

# --- the watcher key: attestations by either key -------------------------------
my $inv_newkey = $t->new_invoice('/files/a.bin');
$t->pay_invoice($inv_newkey->{id}, 12345, 1, key => $new_sec);
my $tok_att_new = $t->invoice_status($inv_newkey->{id})->{token};
ok($tok_att_new, 'rotating: an attestation by the new watcher key mints a token');
my $inv_oldkey = $t->new_invoice('/files/a.bin');
$t->pay_invoice($inv_oldkey->{id}, 12345, 1);
ok($t->invoice_status($inv_oldkey->{id})->{token}, '  and one by the old key');
my $inv_otherkey = $t->new_invoice('/files/a.bin');
$t->pay_invoice($inv_otherkey->{id}, 12345, 1, key => '11' x 32);
is($t->invoice_status($inv_otherkey->{id})->{state}, 'unverified', '  a third key\'s is refused');

# a regtest purchase with the watcher on the new key (and the new secret):
# the invoice made under the old secret before the rotation, paid now
$t->write_file('watcher.old.key', "$BcTest::WATCHER_SECKEY\n", 0600);
$t->write_file('watcher.key', "$new_sec\n", 0600);
$t->start_watcher(args => ['--old-key', "$dir/watcher.old.key", '--old-secret', "$dir/secret.old"]);
my $txid = $t->send_sats($inv_open->{address}, 12345);
like($txid, qr/^[0-9a-f]{64}$/, 'the wallet paid the invoice made before the rotation');
ok(BcTest::wait_until(sub { $t->invoice_status($inv_open->{id})->{state} eq 'seen' }, 20),
   '  the watcher saw it') or diag $t->watcher_log;
$t->mine(1);
my $s = BcTest::wait_until(sub { my $s = $t->invoice_status($inv_open->{id}); $s->{token} ? $s : undef }, 20);
ok($s, '  a token once mined') or diag $t->watcher_log . $t->error_log;
my $tok_bought = ($s || {})->{token} // '';
$r = $t->get("/files/a.bin?bitcache_token=$tok_bought");
is($r->{status}, 200, '  it downloads');
ok($r->{content} eq $a_bin, '  the exact bytes');
my $att = $t->redis('HGET', "bitcache:inv:$inv_open->{id}", 'att');
like($att, qr/^[0-9a-f]{128}$/, '  attested');
# the invoice the old key saw once mined: its payment record is the old key's
my $slow = BcTest::wait_until(sub { my $s = $t->invoice_status($inv_slow->{id}); $s->{token} ? $s : undef }, 20);
ok($slow, 'the payment the old key recorded counts: 2 of 2 confirmations, a token')
    or diag $t->watcher_log;
$r = $t->get("/slow/b.bin?bitcache_token=" . (($slow || {})->{token} // ''));
ok($r->{status} == 200 && $r->{content} eq $b_bin, '  it downloads the exact bytes');
unlike($t->watcher_log, qr/MAC does not verify|not this watcher's/, '  the watcher took the old invoice');
$t->stop_watcher;

# --- the old ones dropped ----------------------------------------------------
reload(conf('%%DIR%%/secret', $new_pub), $tok_old, 402);

is($t->get("/files/a.bin?bitcache_token=$tok_new")->{status}, 200, 'dropped: a new token downloads');
# an invoice made before the rotation gives a token of the old secret (its
# terms are not in the attestation: t/99-rotation-redis-attacks.t), which
# stops with it
is($t->get("/files/a.bin?bitcache_token=$tok_paid_new")->{status}, 402,
   '  the token an old invoice gave while rotating is the old secret\'s: refused');
is($t->get("/files/a.bin?bitcache_token=$tok_bought")->{status}, 402,
   '  so is the token of an old invoice paid while rotating');
is($t->get("/files/a.bin?bitcache_token=$tok_att_new")->{status}, 200,
   '  the token of the new key\'s attestation downloads');
$r = $t->get("/files/a.bin?bitcache_token=$tok_old");
is($r->{status}, 402, 'dropped: an old token gets the 402 page');
like($t->error_log, qr/bitcache: .*bad token MAC/, '  logged as a bad token MAC');

$r = post_offer($offer_old);
is($r->{status}, 400, 'dropped: the old page\'s offer is refused (400)');
like($r->{content}, qr/offer/i, '  says why') or diag $r->{content};
is(post_offer(offer_of('/files/a.bin')->{offer})->{status}, 201, '  a new page\'s offer is taken');

$st = $t->invoice_status($inv_paid->{id});
ok(!$st->{token}, 'dropped: an old invoice mints no token');
like($t->error_log, qr/invoice $inv_paid->{id} is invalid: invoice MAC does not verify/,
     '  logged: its MAC does not verify');
$st = $t->invoice_status($inv_oldkey->{id});
ok(!$st->{token}, 'dropped: an attestation by the old watcher key mints no token');
is($st->{state}, 'unverified', '  the state is "unverified"');
like($t->error_log, qr/invoice $inv_oldkey->{id} marked paid, no token: attestation does not verify/,
     '  logged: attestation does not verify');
ok($t->invoice_status($inv_newkey->{id})->{token}, '  the new key\'s attestation still mints');
for my $inv ([$inv_slow, 'the invoice the old key saw'], [$inv_open, 'the one bought through the watcher']) {
    $out = cli_ok("invoice show: $inv->[1]", 'invoice', 'show', '--secret', "$dir/secret",
                  '--old-secret', "$dir/secret.old", '--watcher-key', $new_pub,
                  '--redis', $t->redis_addr, $inv->[0]{id});
    like($out, qr/^attestation: ok$/m, '  attested under the new watcher key');
    like($out, qr/^settles: yes/m, '  settles with the old secret given (made under it)');
}
$out = cli_ok('invoice show with the new secret alone', 'invoice', 'show', '--secret', "$dir/secret",
              '--watcher-key', $new_pub, '--redis', $t->redis_addr, $inv_slow->{id});
like($out, qr/^invoice MAC: invoice MAC does not verify$/m, '  the old secret\'s invoice does not verify');

# the wallet: its state was signed again by the purchase while rotating;
# the old secret's ledger entries are no longer listed (nor counted)
$r = $t->wallet_req('GET', '/wallet', $w->{code});
is($r->{json}{balance_sats}, 50_000 - 2 * 12345, 'dropped: the wallet used while rotating keeps its balance');
is(scalar @{ $r->{json}{purchases} || [] }, 1, '  only the purchase of the new secret is listed');
is(scalar @{ $r->{json}{topups} || [] }, 0, '  the old top-up is not');
$r = $t->wallet_req('POST', '/wallet/buy', $w->{code}, { offer => offer_of('/files/d.bin')->{offer} });
is($r->{json}{state}, 'bought', '  and buys') or diag $r->{content};
$r = $t->wallet_req('GET', '/wallet', $w_idle->{code});
is($r->{status}, 200, 'dropped: the idle wallet, its state signed again by repair, answers');
is($r->{json}{balance_sats}, 20_000, '  with its balance');
$r = $t->wallet_req('POST', '/wallet/buy', $w_idle->{code}, { offer => offer_of('/files/a.bin')->{offer} });
is($r->{json}{state}, 'bought', '  and buys') or diag $r->{content};
$r = $t->wallet_req('GET', '/wallet', $w_idle2->{code});
is($r->{status}, 409, 'dropped: a wallet idle while rotating and not repaired: 409');
is($r->{json}{error}, 'invalid_wallet', '  invalid_wallet');
# the catalog zone saw the record's seq: one that no longer verifies is
# taken for a roll-back, not sold until a newer record is written
$r = $t->get('/files/c.bin', Accept => 'application/json');
is($r->{status}, 503, 'dropped: a catalog record of the old secret is not sold (503)');
like($t->error_log, qr{catalog record of "/files/c\.bin" rolled back: its MAC does not verify},
     '  logged as rolled back');
cli_ok('product set again under the new secret', 'product', 'set', '/files/c.bin', '--price', 777,
       '--secret', "$dir/secret", '--redis', $t->redis_addr);
is(offer_of('/files/c.bin')->{price_sats}, 777, '  sold again');
is(offer_of('/files/d.bin')->{price_sats}, 888, '  the new one sells');

is(json_of(key_fetch('/films/s.bin', $tok_film_new))->{key}, $key_old,
   'dropped: the sealed key wrapped again opens, the same key');
$t->redis('HSET', 'bitcache:sealkey:/films/s.bin', %sk_old);
is(key_fetch('/films/s.bin', $tok_film_new)->{status}, 409,
   'dropped: the key as the old secret wrapped it no longer opens (409)');
$t->check_log_clean;
done_testing;
