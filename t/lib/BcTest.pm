package BcTest;
# Test harness: each test gets its own temp dir, a real redis-server and the
# Debian nginx loading build/ngx_http_bitcache_module.so, on free loopback
# ports; everything is stopped at the end, and error.log is checked for
# [alert] and [emerg] like nginx's own test suite does.
use strict;
use POSIX ();
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use Test::More;
use HTTP::Tiny;

our $ROOT = abs_path(dirname(__FILE__) . '/../..');
our $MODULE = "$ROOT/build/ngx_http_bitcache_module.so";
our $CLI = "$ROOT/build/bitcache";

# make test's time limit (scripts/test-file.sh) ends a file with SIGTERM:
# exit so that DESTROY and END stop the servers this test started
# (a forked helper of the test ends as it would have without this)
my $main_pid = $$;
$SIG{TERM} = sub {
    if ($$ != $main_pid) {
        $SIG{TERM} = 'DEFAULT';
        kill 'TERM', $$;
    }
    print STDERR "# terminated\n";
    exit 143;
};

sub new {
    my ($class) = @_;
    my $dir = tempdir('bitcache-test-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{BC_KEEP});
    chmod 0755, $dir;    # nginx workers run as nobody
    my $self = bless { dir => $dir, pids => {}, owner => $$ }, $class;
    mkdir "$dir/html";
    mkdir "$dir/logs";
    $self->write_file('secret', scalar `$CLI secret`, 0600);
    die "bitcache secret failed" unless -s "$dir/secret";
    return $self;
}

sub dir { $_[0]{dir} }

sub write_file {
    my ($self, $name, $content, $mode) = @_;
    my $path = "$self->{dir}/$name";
    system('mkdir', '-p', dirname($path)) == 0 or die;
    open my $fh, '>', $path or die "$path: $!";
    binmode $fh;
    print $fh $content;
    close $fh;
    chmod(defined $mode ? $mode : 0644, $path);
    return $path;
}

# random content, written under html/
sub make_file {
    my ($self, $name, $size) = @_;
    open my $r, '<', '/dev/urandom' or die;
    my $data = '';
    read($r, $data, $size) == $size or die;
    close $r;
    $self->write_file("html/$name", $data);
    return $data;
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', ReuseAddr => 1) or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub wait_port {
    my ($port, $want_open, $secs) = @_;
    my $until = time + ($secs || 10);
    while (time < $until) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
        my $open = $s ? 1 : 0;
        close $s if $s;
        return 1 if $open == $want_open;
        sleep 0.05;
    }
    return 0;
}

# --- redis ---------------------------------------------------------------

# conf: a redis.conf read first (ACL users, replication); extra: more
# arguments after the usual ones
sub start_redis {
    my ($self, %opt) = @_;
    $self->{redis_port} ||= free_port();
    my $port = $self->{redis_port};
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>>', "$self->{dir}/logs/redis.log";
        open STDERR, '>&', \*STDOUT;
        exec 'redis-server', ($opt{conf} ? $opt{conf} : ()), '--port', $port,
             '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
             '--dir', $self->{dir}, '--protected-mode', 'no', @{ $opt{extra} || [] };
        exit 127;
    }
    $self->{pids}{redis} = $pid;
    wait_port($port, 1) or die "redis-server did not start on $port";
    return $port;
}

sub redis_addr { "127.0.0.1:$_[0]{redis_port}" }

# Starts another server of the test (a replica, a sentinel, a tunnel):
# its output goes to logs/$name.log; the harness stops it.
sub spawn {
    my ($self, $name, @cmd) = @_;
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>>', "$self->{dir}/logs/$name.log";
        open STDERR, '>&', \*STDOUT;
        exec @cmd;
        exit 127;
    }
    $self->{pids}{$name} = $pid;
    return $pid;
}

# The end of the RESP value at $pos in $buf, or undef if it is incomplete.
sub _resp_end {
    my ($buf, $pos) = @_;
    my $eol = index($buf, "\r\n", $pos);
    return undef if $eol < 0;
    my ($type, $arg) = (substr($buf, $pos, 1), substr($buf, $pos + 1, $eol - $pos - 1));
    $pos = $eol + 2;
    if ($type eq '$') {
        return $pos if $arg < 0;
        return length($buf) >= $pos + $arg + 2 ? $pos + $arg + 2 : undef;
    }
    if ($type eq '*') {
        for (1 .. ($arg < 0 ? 0 : $arg)) {
            $pos = _resp_end($buf, $pos) // return undef;
        }
    }
    return $pos;
}

# Strings of a RESP array of bulk strings (a command)
sub _resp_strings {
    my ($raw) = @_;
    my ($pos, @out) = ($raw =~ /^\*/ ? index($raw, "\r\n") + 2 : 0);
    while ($pos < length $raw) {
        my $eol = index($raw, "\r\n", $pos);
        my $len = substr($raw, $pos + 1, $eol - $pos - 1);
        push @out, substr($raw, $eol + 2, $len);
        $pos = $eol + 2 + $len + 2;
    }
    return @out;
}

# A man in the middle between a client (the watcher) and Redis, to play
# Redis behaviors that are allowed but rare: $filter->(\@command, $reply)
# returns the reply bytes to pass on. Listens on a free port; returns it.
sub start_redis_proxy {
    my ($self, $name, $filter) = @_;
    my $l = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', ReuseAddr => 1) or die "proxy: $!";
    my $port = $l->sockport;
    my $pid = fork // die;
    if (!$pid) {
        require IO::Select;
        require POSIX;
        my $sel = IO::Select->new($l);
        my %peer;    # fileno => { c => client, r => redis, cin, rin, cmds }
        for (;;) {
            for my $fh ($sel->can_read) {
                if ($fh == $l) {
                    my $c = $l->accept or next;
                    my $r = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                                  PeerPort => $self->{redis_port}) or next;
                    my $p = { c => $c, r => $r, cin => '', rin => '', cmds => [] };
                    $peer{ fileno $c } = $peer{ fileno $r } = $p;
                    $sel->add($c, $r);
                    next;
                }
                my $p = $peer{ fileno $fh } or next;
                my $n = sysread($fh, my $data, 65536);
                if (!$n) {
                    $sel->remove($p->{c}, $p->{r});
                    delete @peer{ fileno $p->{c}, fileno $p->{r} };
                    close $p->{c};
                    close $p->{r};
                    next;
                }
                if ($fh == $p->{c}) {
                    $p->{cin} .= $data;
                    while (defined(my $end = _resp_end($p->{cin}, 0))) {
                        my $cmd = substr($p->{cin}, 0, $end, '');
                        push @{ $p->{cmds} }, [ _resp_strings($cmd) ];
                        syswrite($p->{r}, $cmd);
                    }
                } else {
                    $p->{rin} .= $data;
                    while (defined(my $end = _resp_end($p->{rin}, 0))) {
                        my $reply = substr($p->{rin}, 0, $end, '');
                        my $cmd = shift @{ $p->{cmds} } || [];
                        $reply = $filter->($cmd, $reply);
                        syswrite($p->{c}, $reply);
                    }
                }
            }
        }
        POSIX::_exit(0);
    }
    $self->{pids}{$name} = $pid;
    return $port;
}

sub stop_redis {
    my ($self, $sig) = @_;
    $self->_stop('redis', $sig || 'KILL');
    wait_port($self->{redis_port}, 0);
}

sub redis_signal {
    my ($self, $sig) = @_;
    kill $sig, $self->{pids}{redis};
}

# One command over a raw socket (RESP); returns the reply as a Perl value.
sub redis {
    my ($self, @args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{redis_port},
                                  Timeout => 5) or die "redis connect: $!";
    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print $s $req;
    my $reply = _resp($s);
    close $s;
    return $reply;
}

sub _resp {
    my ($s) = @_;
    my $line = <$s>;
    die "redis: no reply" unless defined $line;
    $line =~ s/\r\n$//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+' || $t eq ':';
    die "redis error: $v" if $t eq '-';
    if ($t eq '$') {
        return undef if $v < 0;
        my $buf = '';
        read($s, $buf, $v + 2);
        return substr($buf, 0, $v);
    }
    if ($t eq '*') {
        return undef if $v < 0;
        return [map { _resp($s) } 1 .. $v];
    }
    die "redis: bad reply $line";
}

# how many times Redis ran a command (INFO commandstats)
sub redis_calls {
    my ($self, $cmd) = @_;
    my $info = $self->redis('INFO', 'commandstats');
    return $info =~ /cmdstat_\Q$cmd\E:calls=(\d+)/ ? $1 : 0;
}

# how many commands Redis ran in all, but INFO (which this asks with) and
# the connection's own (HELLO, PING, AUTH, SELECT, CLIENT)
sub redis_calls_all {
    my ($self) = @_;
    my $info = $self->redis('INFO', 'commandstats');
    my $n = 0;
    while ($info =~ /cmdstat_([a-z|]+):calls=(\d+)/g) {
        $n += $2 unless $1 =~ /^(info|ping|auth|select|hello|client\|.*)$/;
    }
    return $n;
}

# --- nginx ---------------------------------------------------------------

# Wraps an http{} body into a whole nginx.conf; %%REDIS%%, %%DIR%% and
# %%PORT%% are replaced.
sub nginx_conf {
    my ($self, $http, %opt) = @_;
    my $dir = $self->{dir};
    my $redis = $self->{redis_port} ? $self->redis_addr : '127.0.0.1:1';
    $http =~ s/%%REDIS%%/$redis/g;
    $http =~ s/%%DIR%%/$dir/g;
    $http =~ s/%%PORT%%/$self->{http_port}/g;
    my $workers = $opt{workers} || 1;
    # plain: an nginx without the module (a mirror serving sealed copies)
    my $load = $opt{plain} ? '' : "load_module $MODULE;";
    return <<"CONF";
$load
worker_processes $workers;
error_log $dir/logs/error.log info;
pid $dir/logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log $dir/logs/access.log;
    default_type application/octet-stream;
    client_body_temp_path $dir/tmp_body;
    proxy_temp_path $dir/tmp_proxy;
    fastcgi_temp_path $dir/tmp_fastcgi;
    uwsgi_temp_path $dir/tmp_uwsgi;
    scgi_temp_path $dir/tmp_scgi;
$http
}
CONF
}

# A usual paywalled server: /files/ sold, /free/ plain.
sub default_http {
    my ($self, $extra) = @_;
    $extra ||= '';
    return <<"CONF";
    bitcache_redis %%REDIS%% timeout=500ms;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        large_client_header_buffers 4 16k;    # room for the 8 KiB token tests
        bitcache_secret %%DIR%%/secret;
        location /files/ {
            bitcache on;
            $extra
        }
        location /free/ { }
    }
CONF
}

# nginx -t on a config; returns (exit code, output, config path)
sub nginx_test {
    my ($self, $http, $name) = @_;
    $self->{http_port} ||= free_port();
    my $conf = $self->write_file($name || 'test.conf', $self->nginx_conf($http));
    my $out = `nginx -t -p $self->{dir} -c $conf -g 'daemon on;' 2>&1`;
    return ($? >> 8, $out, $conf);
}

sub start_nginx {
    my ($self, $http, %opt) = @_;
    $self->{http_port} ||= free_port();
    my $conf = $self->write_file('nginx.conf',
                                 $self->nginx_conf($http || $self->default_http, %opt));
    my $out = `nginx -p $self->{dir} -c $conf 2>&1`;
    die "nginx did not start: $out" if $?;
    wait_port($self->{http_port}, 1) or die "nginx not listening";
    open my $fh, '<', "$self->{dir}/logs/nginx.pid" or die;
    chomp(my $pid = <$fh>);
    $self->{nginx_pid} = $pid;
    return $self->{http_port};
}

sub stop_nginx {
    my ($self) = @_;
    return unless $self->{nginx_pid};
    kill 'QUIT', $self->{nginx_pid};
    my $until = time + 10;
    sleep 0.05 while kill(0, $self->{nginx_pid}) && time < $until;
    kill 'KILL', $self->{nginx_pid} if kill 0, $self->{nginx_pid};
    delete $self->{nginx_pid};
}

# nginx in the foreground (master_process off, daemon off: the conf says
# so) under valgrind's memcheck, its report in valgrind.log; returns when
# it listens on $opt{port} (default http_port). $opt{origins}: 0 leaves out
# --track-origins (faster, for tests that send many requests).
sub start_nginx_valgrind {
    my ($self, $conf, %opt) = @_;
    my $vlog = "$self->{dir}/valgrind.log";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        exec 'valgrind', '--tool=memcheck', '--error-exitcode=99',
             (($opt{origins} // 1) ? '--track-origins=yes' : ()),
             '--errors-for-leak-kinds=none', "--log-file=$vlog",
             'nginx', '-p', $opt{prefix} // $self->{dir}, '-c', $conf;
        exit 127;
    }
    $self->{pids}{valgrind} = $pid;
    $self->{valgrind_log} = $vlog;
    ok(wait_port($opt{port} // $self->{http_port}, 1, 60), 'nginx started under valgrind');
}

# Ends it with QUIT (its exit frees every pool, timer and connection) and
# checks valgrind's verdict. Without a master, nginx looks at the signal's
# flag only between two rounds of events: a QUIT that lands just before it
# waits in epoll with no timer set is seen at the next event, which may
# never come (seen once in five full runs under valgrind, which widens
# that window): so it is sent again every 5 s. The wait is bounded: an
# nginx that never ends fails here, not the suite.
sub stop_nginx_valgrind {
    my ($self) = @_;
    my $pid = delete $self->{pids}{valgrind} or return;
    my $until = time + 120;
    my ($done, $next) = (0, 0);
    until (($done = waitpid($pid, POSIX::WNOHANG()) == $pid) || time > $until) {
        if (time >= $next) {
            kill 'QUIT', $pid;
            $next = time + 5;
        }
        sleep 0.1;
    }
    my $status = $done ? $? : -1;    # a signal (an abort, a crash) too
    ok($done, 'nginx under valgrind ended on QUIT') or do {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    };
    my $log = do { local (@ARGV, $/) = $self->{valgrind_log}; <> } // '';
    is($status, 0, 'valgrind reported no error, nginx exited 0') or diag $log;
    like($log, qr/ERROR SUMMARY: 0 errors/, 'ERROR SUMMARY: 0 errors');
    unlike($log, qr/Invalid (read|write|free)|uninitialised|Mismatched free|Process terminating/,
           'no invalid access or fatal signal in the log');
}

sub url { "http://127.0.0.1:$_[0]{http_port}$_[1]" }

sub http {
    my ($self, $method, $path, %headers) = @_;
    my $ua = HTTP::Tiny->new(timeout => 20, max_redirect => 0, keep_alive => 0);
    return $ua->request($method, $self->url($path), { headers => \%headers });
}

sub get { my ($self, $path, %h) = @_; $self->http('GET', $path, %h) }

# Sends $method $target (bytes as given: CR, LF, quotes, %-escapes) with
# %h headers and $body over a plain socket; returns { status, head (the raw
# header block), headers (lower-cased name => [values]), content }.
sub raw {
    my ($self, $method, $target, $body, %h) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $self->{http_port},
                                  Timeout => 10) or die "connect: $!";
    my $req = "$method $target HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    $req .= "$_: $h{$_}\r\n" for sort keys %h;
    $req .= 'Content-Length: ' . length($body) . "\r\n" if defined $body;
    $req .= "\r\n" . ($body // '');
    print $s $req;
    local $/;
    my $resp = <$s> // '';
    close $s;
    my ($head, $content) = split /\r\n\r\n/, $resp, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d{3})};
    my %headers;
    for my $line (split /\r\n/, $head // '') {
        push @{ $headers{ lc $1 } }, $2 if $line =~ /^([^:\s]+):\s*(.*)$/;
    }
    return { status => $status // 0, head => $head // '', headers => \%headers,
             content => $content // '' };
}

sub error_log {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/logs/error.log" or return '';
    local $/;
    return <$fh>;
}

sub access_log {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/logs/access.log" or return '';
    local $/;
    return <$fh>;
}

# --- the CLI ---------------------------------------------------------------

# runs build/bitcache; returns (exit code, stdout, stderr)
sub cli {
    my ($self, @args) = @_;
    my $out = "$self->{dir}/cli.out";
    my $err = "$self->{dir}/cli.err";
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>', $out;
        open STDERR, '>', $err;
        exec $CLI, @args;
        exit 127;
    }
    waitpid $pid, 0;
    my $rc = $? >> 8;
    local $/;
    open my $o, '<', $out; my $so = <$o> // '';
    open my $e, '<', $err; my $se = <$e> // '';
    return ($rc, $so, $se);
}

# Starts the CLI in the background (a command that waits, like `open`
# for a payment); $name tells runs apart: cli_output($name) reads what it
# printed so far, cli_finish($name, $secs) waits for its exit status
# (undef if it still runs), cli_kill($name) stops it.
sub cli_start {
    my ($self, $name, @args) = @_;
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>', "$self->{dir}/cli-$name.out";
        open STDERR, '>', "$self->{dir}/cli-$name.err";
        exec $CLI, @args;
        exit 127;
    }
    $self->{pids}{"cli-$name"} = $pid;
    return $pid;
}

sub cli_output {
    my ($self, $name) = @_;
    my @r;
    for my $f ("$self->{dir}/cli-$name.out", "$self->{dir}/cli-$name.err") {
        open my $fh, '<', $f or do { push @r, ''; next };
        local $/;
        push @r, <$fh> // '';
    }
    return @r;
}

sub cli_finish {
    my ($self, $name, $secs) = @_;
    my $pid = $self->{pids}{"cli-$name"} or return undef;
    my $until = time + ($secs || 30);
    while (time < $until) {
        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            delete $self->{pids}{"cli-$name"};
            return $? >> 8;
        }
        sleep 0.1;
    }
    return undef;
}

sub cli_kill { $_[0]->_stop("cli-$_[1]", 'KILL') }

sub grant {
    my ($self, $product, @opt) = @_;
    my ($rc, $out, $err) = $self->cli('grant', '--secret', "$self->{dir}/secret",
                                      '--redis', $self->redis_addr, @opt, $product);
    die "grant failed ($rc): $err" if $rc;
    chomp $out;
    return $out;
}

# bytes drawn on a token, from its Redis record (docs/protocol.md): of the
# file whose path ends in $file, or of all its files; undef without a record
sub drawn {
    my ($self, $token, $file) = @_;
    require TokenRef;
    my $p = TokenRef::parse_token($token);
    my %rec = @{ $self->redis('HGETALL', "bitcache:tok:$p->{id}") || [] };
    return undef unless %rec;
    my $n = 0;
    for my $f (keys %rec) {
        next unless $f =~ /^b:/ && (!defined $file || $f =~ /\Q$file\E$/);
        my $v = $rec{$f};
        $v -= 1 << 51 if $v >= 1 << 51;        # revoked: docs/protocol.md
        $n += $v - (1 << 50) if $v >= 1 << 50;    # LIVE + bytes drawn
    }
    return $n;
}

# drawn() after the request's refund (sent when it ended) had time to land
sub drawn_settled {
    my ($self, @a) = @_;
    my ($last, $same) = (-1, 0);
    for (1 .. 40) {
        my $d = $self->drawn(@a) // return undef;
        $same = $d == $last ? $same + 1 : 0;
        return $d if $same >= 2;
        $last = $d;
        sleep 0.05;
    }
    return $last;
}

# `bitcache seal` of html/$name into $out (a path) for $product at $host
# (the API's URL); returns the key id it printed (32 hex digits)
sub seal {
    my ($self, $name, $out, $product, $host, @opt) = @_;
    my ($rc, $so, $se) = $self->cli('seal', "$self->{dir}/html/$name", $out,
                                    '--product', $product, '--host', $host,
                                    '--secret', "$self->{dir}/secret",
                                    '--redis', $self->redis_addr, @opt);
    die "seal failed ($rc): $se" if $rc;
    my ($id) = $so =~ /\tkey ([0-9a-f]{32})/ or die "seal: no key id in \"$so\"";
    return $id;
}

sub secret_bytes {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/secret" or die;
    chomp(my $hex = <$fh>);
    return pack('H*', $hex);
}

# --- wallet records, made as libbitcache makes them ---------------------------

# Runs build/tools/wallet_tool (libbitcache's wallet records behind a line
# protocol, see t/tools/wallet_tool.c): each argument an array ref of fields;
# returns one answer per line ("error" when refused). E.g.
#   my ($code, $wid) = split /\t/, ($t->wallet_tool(['code', $secret_hex]))[0];
#   my ($mac) = $t->wallet_tool(['state', $t->secret_hex, $wid, 3, $created, $seq, $bal, $head, 0]);
sub wallet_tool {
    my ($self, @lines) = @_;
    my $in = "$self->{dir}/wallet_tool.in";
    open my $fh, '>:raw', $in or die "$in: $!";
    print $fh join("\t", @$_), "\n" for @lines;
    close $fh;
    my @out = `$BcTest::TOOLS/wallet_tool < $in`;
    die "wallet_tool failed: $?" if $?;
    chomp @out;
    return @out;
}

# the bitcache secret of this test, in hex (what wallet_tool's KEY is)
sub secret_hex { unpack 'H*', $_[0]->secret_bytes }

# A wallet's state (wal:<wid>) as the module writes it, with its MAC:
# wallet_state($wid, seq => , bal => , head => , auto => , net => , created => )
# returns the field/value list for HSET.
sub wallet_state {
    my ($self, $wid, %s) = @_;
    my @f = (net => $s{net} // 3, created => $s{created} // 1767225600, seq => $s{seq} // 0,
             bal => $s{bal} // 0, head => $s{head} // ('00' x 32), auto => $s{auto} // 0);
    my %f = @f;
    my ($mac) = $self->wallet_tool(['state', $self->secret_hex, $wid, @f{qw(net created seq bal head auto)}]);
    die "wallet_state: refused" if $mac eq 'error';
    return (v => 1, @f, mac => $mac);
}

sub _stop {
    my ($self, $name, $sig) = @_;
    my $pid = delete $self->{pids}{$name} or return;
    local $?;               # the test's own exit status stays
    kill 'CONT', $pid;
    kill $sig, $pid;
    # a process that does not stop (a node waiting for a connection to
    # close) must not hang the test: KILL after 10 s
    for (1 .. 100) {
        return if waitpid($pid, POSIX::WNOHANG()) != 0;
        select(undef, undef, undef, 0.1);
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
}

# every test also checks that nginx logged no [alert] or [emerg]
sub check_log_clean {
    my ($self) = @_;
    my @bad = grep { /\[(alert|emerg)\]/ } split /\n/, $self->error_log;
    ok(!@bad, 'no [alert] or [emerg] in error.log')
        or diag(join "\n", @bad[0 .. ($#bad < 5 ? $#bad : 4)]);
}

sub DESTROY {
    my ($self) = @_;
    return if ($self->{owner} // $$) != $$;    # a forked helper's copy: not its servers
    $self->stop_nginx;
    $self->_stop($_, 'TERM') for keys %{ $self->{pids} };
}

# --- payments, written the way the watcher will -----------------------------

our $TOOLS = "$ROOT/build/tools";
# BIP340's first test vector key: a fixed watcher key for the tests
our $WATCHER_SECKEY = 'b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef';

# (secret key hex, x-only public key hex) of the test watcher; the public
# key is what bitcache_watcher_key takes
sub watcher_key {
    my ($self) = @_;
    $self->{watcher_pub} //= do {
        my $pub = `$TOOLS/pay_invoice --pubkey $WATCHER_SECKEY`;
        die "pay_invoice --pubkey failed" if $? || $pub !~ /^([0-9a-f]{64})$/;
        $1;
    };
    return ($WATCHER_SECKEY, $self->{watcher_pub});
}

# Records a payment of invoice $id (hex) as the watcher will: state (paid
# unless $opt{state}), received, conf, paid_at ($opt{paid_at}, default now)
# and the BIP340 attestation, signed with $opt{key} (default the test
# watcher's) for the invoice's network (or $opt{network}'s). Returns the
# attestation hex.
sub pay_invoice {
    my ($self, $id, $received, $conf, %opt) = @_;
    my @args = ('--redis', $self->redis_addr, '--key', $opt{key} // $WATCHER_SECKEY);
    push @args, '--paid-at', $opt{paid_at} if defined $opt{paid_at};
    push @args, '--state', $opt{state} if defined $opt{state};
    push @args, '--prefix', $opt{prefix} if defined $opt{prefix};
    push @args, '--publish', $opt{publish} if defined $opt{publish};
    push @args, '--network', $opt{network} if defined $opt{network};
    open(my $fh, '-|', "$TOOLS/pay_invoice", @args, $id, $received, $conf)
        or die "pay_invoice: $!";
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    die "pay_invoice $id failed (exit " . ($? >> 8) . ")" if $?;
    chomp $out;
    return $out;
}

# Runs the CLI with each case [\@args, qr/message/] and checks that it
# exits 2 (a usage error), says the message on stderr and prints nothing.
sub cli_refuses {
    my ($self, @cases) = @_;
    for my $case (@cases) {
        my ($args, $want) = @$case;
        my ($rc, $out, $err) = $self->cli(@$args);
        my $name = join(' ', map { length > 30 ? substr($_, 0, 27) . '...' : $_ } @$args) || '(none)';
        is($rc, 2, "exit 2: $name");
        like($err, $want, "message: $name");
        is($out, '', "nothing on stdout: $name");
    }
}

# --- a real regtest node (bcoin, t/node/regtest-node.js) and the watcher ----

our $NODE_KEY = 'bitcache-regtest';

# Starts bcoin in regtest (in memory) on free loopback ports: the node's
# JSON-RPC and the wallet's. Mines nothing; see fund_wallet.
sub start_node {
    my ($self) = @_;
    $self->{node_port} ||= free_port();
    $self->{wallet_port} ||= free_port();
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>>', "$self->{dir}/logs/node.log";
        open STDERR, '>&', \*STDOUT;
        exec 'node', "$ROOT/t/node/regtest-node.js", '--rpc-port', $self->{node_port},
             '--wallet-port', $self->{wallet_port}, '--api-key', $NODE_KEY;
        exit 127;
    }
    $self->{pids}{node} = $pid;
    wait_port($self->{node_port}, 1, 60) && wait_port($self->{wallet_port}, 1, 30)
        or die "the regtest node did not start (see $self->{dir}/logs/node.log)";
    return $self->{node_port};
}

sub stop_node {
    my ($self, $sig) = @_;
    $self->_stop('node', $sig || 'TERM');
    wait_port($self->{node_port}, 0) if $self->{node_port};
}

sub node_url { "http://127.0.0.1:$_[0]{node_port}/" }

# A relay between the watcher and the node, to play a node that lies or
# fails: $filter->($request, $status, $reply) gets the decoded JSON-RPC
# request and the node's answer, returns the (status, reply) to send on.
# Returns the relay's URL (for start_watcher's rpc).
sub start_node_relay {
    my ($self, $name, $filter) = @_;
    require JSON::PP;
    require POSIX;
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16,
                                    ReuseAddr => 1) or die "relay: $!";
    my $port = $srv->sockport;
    my $pid = fork // die;
    if ($pid) {
        close $srv;
        $self->{pids}{$name} = $pid;
        return "http://127.0.0.1:$port/";
    }
    my $ua = HTTP::Tiny->new(timeout => 60, keep_alive => 1);
    while (my $c = $srv->accept) {
        local $/ = "\r\n";
        my %h;
        my $line = <$c> // next;
        while (defined(my $l = <$c>)) {
            last if $l eq "\r\n";
            $h{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*?)\r\n$/;
        }
        read($c, my $body, $h{'content-length'} || 0);
        my $r = $ua->request('POST', $self->node_url, {
            headers => { 'Content-Type' => 'application/json',
                         Authorization => $h{authorization} // '' },
            content => $body });
        my $req = eval { JSON::PP::decode_json($body) } || {};
        my ($status, $out) = $filter->($req, $r->{status}, $r->{content});
        print $c "HTTP/1.1 $status X\r\nContent-Type: application/json\r\n"
               . 'Content-Length: ' . length($out) . "\r\nConnection: close\r\n\r\n$out";
        close $c;
    }
    POSIX::_exit(0);
}

sub _jsonrpc {
    my ($self, $port, $method, @params) = @_;
    require JSON::PP;
    require MIME::Base64;
    my $ua = HTTP::Tiny->new(timeout => 120);
    my $r = $ua->request('POST', "http://127.0.0.1:$port/", {
        headers => { 'Content-Type' => 'application/json',
                     Authorization => 'Basic ' . MIME::Base64::encode_base64("x:$NODE_KEY", '') },
        content => JSON::PP::encode_json({ method => $method, params => \@params, id => 1 }) });
    my $j = eval { JSON::PP->new->allow_nonref->decode($r->{content}) };
    die "$method: HTTP $r->{status}: $r->{content}" unless $j;
    die "$method: $j->{error}{message}" if $j->{error};
    return $j->{result};
}

# JSON-RPC to the node / to its wallet; returns the result, dies on an error
sub node_rpc { my ($self, @a) = @_; $self->_jsonrpc($self->{node_port}, @a) }
sub wallet_rpc { my ($self, @a) = @_; $self->_jsonrpc($self->{wallet_port}, @a) }

# Mines $n blocks (to the wallet unless $addr); returns their hashes.
sub mine {
    my ($self, $n, $addr) = @_;
    $addr //= ($self->{mine_addr} //= $self->wallet_rpc('getnewaddress', 'default'));
    return $self->node_rpc('generatetoaddress', $n || 1, $addr);
}

# Mines enough blocks for the wallet to spend 20 coinbases (maturity 100).
sub fund_wallet {
    my ($self) = @_;
    $self->mine(120);
    # the wallet follows the chain asynchronously: wait for all 120 coinbases
    wait_until(sub { $self->wallet_rpc('getbalance') >= 6000 }, 30)
        or die "the wallet did not see its coins";
}

# Polls $cond every 50 ms for up to $secs seconds; returns its last value.
sub wait_until {
    my ($cond, $secs) = @_;
    my $until = time + ($secs || 10);
    my $v;
    while (1) {
        $v = $cond->();
        return $v if $v || time > $until;
        sleep 0.05;
    }
}

# The watcher's key file (the test watcher's key, see watcher_key).
sub watcher_keyfile {
    my ($self) = @_;
    my $path = "$self->{dir}/watcher.key";
    $self->write_file('watcher.key', "$WATCHER_SECKEY\n", 0600) unless -e $path;
    return $path;
}

# Starts `bitcache watch` against the node and Redis; $name tells several
# apart (default "watcher"), its log is logs/$name.log; poll (ms), args
# (more arguments), rpc (the node's URL),
# rpc_auth: how the node's password is given (argv, file, env, or url: in rpc),
# redis (host:port, default the test's Redis), redis_args (instead of
# --redis ADDR: e.g. --redis-sentinel ...).
sub start_watcher {
    my ($self, %opt) = @_;
    my $name = $opt{name} || 'watcher';
    # the node's password: on the command line, or (rpc_auth) from a file or the environment
    my $auth = $opt{rpc_auth} || 'argv';
    $self->write_file('rpc.pw', "$NODE_KEY\n", 0600) if $auth eq 'file';
    my @pw = $auth eq 'argv' ? ('--rpc-password', $NODE_KEY)
           : $auth eq 'file' ? ('--rpc-password-file', "$self->{dir}/rpc.pw") : ();
    my @args = ('watch', '--rpc', $opt{rpc} || $self->node_url,
                ($auth eq 'url' ? () : ('--rpc-user', 'x', @pw)),
                ($opt{redis_args} ? @{ $opt{redis_args} } : ('--redis', $opt{redis} || $self->redis_addr)),
                '--key', $self->watcher_keyfile,
                '--secret', "$self->{dir}/secret",
                '--network', 'regtest', '--poll', $opt{poll} || 100, @{ $opt{args} || [] });
    my $pid = fork // die;
    if (!$pid) {
        open STDOUT, '>>', "$self->{dir}/logs/$name.log";
        open STDERR, '>&', \*STDOUT;
        $ENV{BITCACHE_RPC_PASSWORD} = $NODE_KEY if $auth eq 'env';
        exec(($ENV{BC_WATCH_WRAP} ? map { s/\{name\}/$name/r } split(" ", $ENV{BC_WATCH_WRAP}) : ()), $CLI, @args);
        exit 127;
    }
    $self->{pids}{$name} = $pid;
    return $pid;
}

sub stop_watcher {
    my ($self, $name, $sig) = @_;
    $self->_stop($name || 'watcher', $sig || 'TERM');
}

sub watcher_log {
    my ($self, $name) = @_;
    open my $fh, '<', "$self->{dir}/logs/" . ($name || 'watcher') . '.log' or return '';
    local $/;
    return <$fh>;
}

# The node's wallet pays $sats satoshis to $addr; returns the txid.
sub send_sats {
    my ($self, $addr, $sats) = @_;
    my $btc = sprintf('%d.%08d', int($sats / 100_000_000), $sats % 100_000_000);
    return $self->wallet_rpc('sendtoaddress', $addr, $btc + 0);    # a JSON number
}

# The invoice record inv:<id> as a hash
sub invoice {
    my ($self, $id) = @_;
    return { @{ $self->redis('HGETALL', "bitcache:inv:$id") || [] } };
}

# $n confirmed wallet coins of $sats each (one fan-out transaction, mined),
# for bulk_pay
sub make_coins {
    my ($self, $n, $sats) = @_;
    $self->node_rpc('bitcache_fanout', $n, $sats);
    $self->mine(1);
}

# One transaction per [address, sats] pair, each from its own coin (see
# make_coins), into the mempool at once; returns the txids. Waits for the
# wallet to have seen its coins.
sub bulk_pay {
    my ($self, @pays) = @_;
    my $txids;
    wait_until(sub { $txids = eval { $self->node_rpc('bitcache_bulkpay', \@pays) } }, 30)
        or die "bulk_pay: $@";
    return @$txids;
}

# --- selling through nginx, for the watcher's tests and benchmark ----------

# the creator's wallet of the selling tests (a regtest tpub, index 0.. used by nginx)
our $TEST_TPUB = 'tpubDDPRy5xWxJTuVmsh7YRzK8o2EdMWgn4t41fTLxXRgyRN7EKvN2L8BKCFC1gUfPu8Xp6rr667Yc26zrXsiBZsgBc8dQiYnhPNk2Q7CsBrer5';
our $TEST_WALLET = "wpkh($TEST_TPUB/0/*)";

# An http{} body that sells in regtest to $TEST_WALLET, trusting the test
# watcher's key, with the API at /bitcache/. $locations holds the sold
# locations; %opt: price (default 12345).
sub selling_http {
    my ($self, $locations, %opt) = @_;
    my (undef, $xonly) = $self->watcher_key;
    my $price = $opt{price} || 12345;
    return <<"CONF";
    bitcache_redis %%REDIS%% timeout=2s;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%DIR%%/html;
        bitcache_secret %%DIR%%/secret;
        bitcache_network regtest;
        bitcache_watcher_key $xonly;
        bitcache_wallet "$TEST_WALLET";
        bitcache_price $price;
        bitcache_token_ttl 1h;
        $locations
        location /bitcache/ { bitcache_api; }
    }
CONF
}

# The buyer's steps: the 402's offer for $path, POSTed for an invoice;
# returns the invoice (id, address, claim, ...) as the API's JSON gives
# it. The claim is kept, so that invoice_status($id) proves it.
sub new_invoice {
    my ($self, $path) = @_;
    require JSON::PP;
    my $r = $self->get($path, Accept => 'application/json');
    my $offer = eval { JSON::PP::decode_json($r->{content})->{offer} }
        or die "no offer for $path: $r->{status}";
    my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0, keep_alive => 0);
    $r = $ua->request('POST', $self->url('/bitcache/invoices'), {
        headers => { 'Content-Type' => 'application/json', Accept => 'application/json' },
        content => JSON::PP::encode_json({ offer => $offer }) });
    die "POST invoice: $r->{status} $r->{content}" unless $r->{status} == 201;
    my $inv = JSON::PP::decode_json($r->{content});
    $self->{claims}{ $inv->{id} } = $inv->{claim};
    return $inv;
}

# POST <api>/invoices for $offer with more body fields (pay what you want
# and tips, docs/creators.md): %f as JSON, or as a form when $f{form} is
# set (the rest in that order: [name => value, ...]). Returns the response
# with {json} decoded ({} if not JSON); a 201's claim is kept as
# new_invoice keeps it.
sub post_invoice {
    my ($self, $offer, %f) = @_;
    require JSON::PP;
    my $ua = HTTP::Tiny->new(timeout => 10, max_redirect => 0, keep_alive => 0);
    my %h = (Accept => $f{accept} // 'application/json');
    my $content;
    if ($f{form}) {
        $h{'Content-Type'} = 'application/x-www-form-urlencoded';
        my @kv = ('offer', $offer, @{ $f{form} });
        $content = join '&', map { "$kv[2 * $_]=$kv[2 * $_ + 1]" } 0 .. $#kv / 2;
    } else {
        $h{'Content-Type'} = 'application/json';
        delete @f{qw(accept)};
        $content = JSON::PP::encode_json({ offer => $offer, %f });
    }
    my $r = $ua->request('POST', $self->url('/bitcache/invoices'),
                         { headers => \%h, content => $content });
    $r->{json} = eval { JSON::PP::decode_json($r->{content}) } || {};
    $self->{claims}{ $r->{json}{id} } = $r->{json}{claim} if $r->{status} == 201 && $r->{json}{id};
    return $r;
}

# the claim secret of an invoice made by new_invoice (undef otherwise)
sub claim_of { $_[0]{claims}{ $_[1] } }

# GET <api>/invoices/<id> as JSON (state, token, ...), proving the
# invoice's claim (X-Bitcache-Claim) when new_invoice made it, or with
# $claim if given ('' for none); {} if unreadable
sub invoice_status {
    my ($self, $id, $claim) = @_;
    require JSON::PP;
    $claim //= $self->claim_of($id);
    my $r = $self->get("/bitcache/invoices/$id", Accept => 'application/json',
                       (defined $claim && length $claim ? ('X-Bitcache-Claim' => $claim) : ()));
    return eval { JSON::PP::decode_json($r->{content}) } || {};
}


# --- wallets: records written by the test fixture writer t/tools/wallet_fixture
# under the test's secret (as the module's routes write them) ----------------

# Runs wallet_fixture (new | credit WID INVOICE AMOUNT | debit WID PRODUCT PRICE
# SELLER); a leading hash ref gives options: key (the attesting key, default
# the test watcher's), received, time. Returns its output line (the wallet
# id, or the entry's seq); dies if it fails.
sub wallet_fixture {
    my ($self, @args) = @_;
    my %opt = ref $args[0] ? %{ shift @args } : ();
    my @o = ('--redis', $self->redis_addr, '--secret', "$self->{dir}/secret",
             '--key', $opt{key} // $WATCHER_SECKEY);
    push @o, '--received', $opt{received} if defined $opt{received};
    push @o, '--time', $opt{time} if defined $opt{time};
    open(my $fh, '-|', "$TOOLS/wallet_fixture", @o, @args) or die "wallet_fixture: $!";
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    die "wallet_fixture @args failed (exit " . ($? >> 8) . ")" if $?;
    chomp $out;
    return $out;
}

# ---- the wallet (docs/wallet.md) ----

# selling_http with the wallet routes on in the API location (the top-up
# key is the test wallet's); $opt{api} adds directives there
sub wallet_http {
    my ($self, $locations, %opt) = @_;
    my $http = $self->selling_http($locations, %opt);
    my $api = $opt{api} // '';
    $http =~ s{location /bitcache/ \{ bitcache_api; \}}
              {location /bitcache/ { bitcache_api; bitcache_wallets on; bitcache_topup_wallet "$TEST_WALLET"; $api }};
    return $http;
}

# A wallet API request as a script makes it: JSON in and out, the code (if
# any) as Authorization: Bitcache; $body a hash (JSON) or a string (form)
sub wallet_req {
    my ($self, $method, $path, $code, $body, %h) = @_;
    require JSON::PP;
    my $ua = HTTP::Tiny->new(timeout => 20, max_redirect => 0, keep_alive => 0);
    $h{Accept} //= 'application/json';
    $h{Authorization} = "Bitcache $code" if defined $code;
    my %req = (headers => \%h);
    if (ref $body) {
        $h{'Content-Type'} = 'application/json';
        $req{content} = JSON::PP::encode_json($body);
    } elsif (defined $body) {
        $h{'Content-Type'} //= 'application/x-www-form-urlencoded';
        $req{content} = $body;
    }
    my $r = $ua->request($method, $self->url("/bitcache$path"), \%req);
    $r->{json} = eval { JSON::PP::decode_json($r->{content}) } || {};
    return $r;
}

# POST <api>/wallets: { wallet, code, balance_sats, wallet_url }
sub wallet_open {
    my ($self) = @_;
    my $r = $self->wallet_req('POST', '/wallets');
    die "POST /wallets: $r->{status} $r->{content}" unless $r->{status} == 201;
    return $r->{json};
}

# Credits $amount to wallet $wid as an attested top-up would, with the test
# fixture writer (t/tools/wallet_fixture; no node); $opt{key} signs
sub wallet_credit {
    my ($self, $wid, $amount, %opt) = @_;
    my $inv = unpack 'H*', join '', map { chr int rand 256 } 1 .. 16;
    my $out = `$TOOLS/wallet_fixture --redis @{[$self->redis_addr]} --secret $self->{dir}/secret --key @{[$opt{key} // $WATCHER_SECKEY]} credit $wid $inv $amount 2>&1`;
    die "wallet_fixture credit: $out" if $?;
    return $inv;
}

# `bitcache wallet audit --no-freeze` as JSON (decoded), or { error => text }
sub wallet_audit {
    my ($self, $wid) = @_;
    require JSON::PP;
    my (undef, $xonly) = $self->watcher_key;
    my $out = `$CLI wallet audit --redis @{[$self->redis_addr]} --secret $self->{dir}/secret --watcher-key $xonly --no-freeze --format json $wid 2>&1`;
    return eval { JSON::PP::decode_json($out) } || { error => $out, exit => $? >> 8 };
}

# The offer of the 402 page of $path (JSON)
sub offer_of {
    my ($self, $path) = @_;
    require JSON::PP;
    my $r = $self->get($path, Accept => 'application/json');
    return eval { JSON::PP::decode_json($r->{content})->{offer} } // die "no offer for $path";
}

# A top-up of $sats for the wallet of $code over the API, paid as the
# watcher records a payment and credited by a read of its status (as the
# wallet page and the invoice page do); returns the invoice JSON
sub wallet_topup_paid {
    my ($self, $code, $sats) = @_;
    my $r = $self->wallet_req('POST', '/wallet/topups', $code, "amount=$sats");
    my $inv = $r->{json};
    die "POST /wallet/topups: $r->{status} $r->{content}" unless $r->{status} == 201 && $inv->{id};
    $self->{claims}{ $inv->{id} } = $inv->{claim};
    $self->pay_invoice($inv->{id}, $sats, 6);
    $self->invoice_status($inv->{id});
    return $inv;
}

# GET <api>/wallet as JSON for $code: the balance in sats, or undef
sub wallet_balance {
    my ($self, $code) = @_;
    my $r = $self->wallet_req('GET', '/wallet', $code);
    return $r->{status} == 200 ? $r->{json}{balance_sats} : undef;
}

# --- metrics ------------------------------------------------------------------

# A Prometheus text exposition read by the prometheus_client library's
# parser (t/tools/prom_parse.py, Debian's python3-prometheus-client):
# { rc => 0 if it parsed, out => what the parser said,
#   samples => { 'name{label="v",...}' => number }, families => { name => [type, help] } }.
# have_prom_parser() says whether the library is installed.
our $PY = '/usr/bin/python3';
sub have_prom_parser { system("$PY -c 'import prometheus_client' 2>/dev/null") == 0 }
sub prom_parse {
    my ($text) = @_;
    require IPC::Open2;
    my $pid = IPC::Open2::open2(my $out, my $in, $PY, "$ROOT/t/tools/prom_parse.py");
    print $in $text;
    close $in;
    my @lines = <$out>;
    waitpid $pid, 0;
    my $rc = $? >> 8;
    my (%s, %fam);
    for (@lines) {
        chomp;
        if (/^family (\S+) (\S+) (\S+)$/) { $fam{$1} = [$2, $3]; next }
        $s{$1} = 0 + $2 if /^(\S+\}) (\S+)$/;    # the parser prints floats: 120.0
    }
    return { rc => $rc, out => join("\n", @lines), samples => \%s, families => \%fam };
}

1;
