// Command pulumi-language-python is this project's Python language host for the Pulumi CLI.
//
// The Go module proxy reachable here serves no version of Pulumi's own host (module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3), so this one implements the
// part of the LanguageRuntime protocol that `pulumi preview`, `pulumi up` and Python policy packs
// use, on the sdk/v3 packages Pulumi's host is made of: the Python toolchain (virtualenv
// resolution), the run-plugin streams and the policy proxy. Programs run through the
// `pulumi-language-python-exec` script of the same sdk/v3 module, installed next to this binary.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"time"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The exec script exits with this code after it has printed an error meant for the user, so the
// engine should not add a stack trace of its own.
const exitAfterUserMessage = 32

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	executor := flag.String("use-executor", "", "program that runs Python programs "+
		"(default: pulumi-language-python-exec next to this binary)")
	flag.String("tracing", "", "accepted for compatibility with the engine's command line; unused")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}

	execPath := *executor
	if execPath == "" {
		self, err := os.Executable()
		if err != nil {
			cmdutil.Exit(fmt.Errorf("could not locate this executable: %w", err))
		}
		execPath = filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	}
	if _, err := os.Stat(execPath); err != nil {
		cmdutil.Exit(fmt.Errorf("missing Python executor: %w", err))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		stop()
		close(cancel)
	}()

	host := &languageHost{exec: execPath}
	host.runCtx, host.cancelRuns = context.WithCancel(context.Background())
	if args := flag.Args(); len(args) > 0 {
		host.engineAddress = args[0]
		// Exit when the engine goes away, as every plugin does.
		if err := rpcutil.Healthcheck(ctx, host.engineAddress, 5*time.Minute, stop); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start the engine health check: %w", err))
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host server: %w", err))
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host stopped serving: %w", err))
	}
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	exec          string
	engineAddress string
	runCtx        context.Context // cancelled by the Cancel RPC
	cancelRuns    context.CancelFunc
}

// pythonOptions reads the `runtime.options` of Pulumi.yaml / PulumiPolicy.yaml that matter here.
func pythonOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory()}
	options := info.GetOptions().AsMap()
	if v, ok := options["virtualenv"]; ok {
		s, ok := v.(string)
		if !ok {
			return opts, errors.New("runtime option virtualenv must be a string")
		}
		opts.Virtualenv = s
	}
	if v, ok := options["toolchain"]; ok {
		switch v {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "uv":
			opts.Toolchain = toolchain.Uv
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		default:
			return opts, fmt.Errorf("unsupported runtime option toolchain: %v", v)
		}
	}
	if v, ok := options["typechecker"]; ok && v != "" {
		return opts, fmt.Errorf("runtime option typechecker=%v is not supported by this language host", v)
	}
	return opts, nil
}

func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *languageHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancelRuns()
	return &emptypb.Empty{}, nil
}

// GetRequiredPackages lists the resource plugins the virtualenv's Pulumi packages ask for, read
// from the pulumi-plugin.json each of them ships, so the engine can check they are installed.
func (h *languageHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	opts, err := pythonOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	venv, err := tc.VirtualEnvPath(ctx)
	if err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(venv, "lib", "python*", "site-packages", "*", "pulumi-plugin.json"))
	if err != nil {
		return nil, err
	}
	var packages []*pulumirpc.PackageDependency
	for _, path := range paths {
		p, err := plugin.LoadPulumiPluginJSON(path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if !p.Resource || p.Name == "" {
			continue
		}
		packages = append(packages, &pulumirpc.PackageDependency{
			Kind: string(apitype.ResourcePlugin), Name: p.Name, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// Run executes the program through the exec script with the virtualenv's Python.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	opts, err := pythonOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	// A stack without configuration sends none; the exec script wants an object all the same.
	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}

	runCtx, stop := context.WithCancel(h.runCtx)
	defer stop()
	context.AfterFunc(ctx, stop)
	cmd, err := tc.Command(runCtx, append([]string{h.exec}, runArguments(req, h.engineAddress)...)...)
	if err != nil {
		return nil, err
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))

	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == exitAfterUserMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the Python executor: %v", err)}, nil
	}
}

// runArguments is the exec script's command line for one RunRequest.
func runArguments(req *pulumirpc.RunRequest, engineAddress string) []string {
	var args []string
	add := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", engineAddress)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

// RunPlugin starts a Python policy pack (`pulumi preview --policy-pack DIR`): `python -u -m
// pulumi.policy ENGINE DIR` in the pack's folder, with the stack's configuration in its
// environment as the pack's SDK expects it. Other kinds of Python plugins are not used here.
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	if req.GetKind() != string(apitype.AnalyzerPlugin) {
		return fmt.Errorf("this language host runs Python policy packs only, not %q plugins", req.GetKind())
	}
	ctx := server.Context()
	opts, err := pythonOptions(req.GetInfo())
	if err != nil {
		return err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	args := append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...)
	cmd, err := tc.Command(ctx, append(args, req.GetInfo().GetProgramDirectory())...)
	if err != nil {
		return err
	}
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}

	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	// The proxy answers the engine's ConfigureStack call itself, so the stack's configuration can be
	// put into the pack's environment before the pack starts; then it forwards to the pack.
	proxy, stdout, err := sdk.NewPolicyProxy(ctx, stdout)
	if err != nil {
		return fmt.Errorf("could not start the policy pack proxy: %w", err)
	}
	config, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return fmt.Errorf("could not get the stack configuration: %w", err)
	}
	if config != nil {
		cmd.Env = append(cmd.Env, "PULUMI_PROJECT="+config.Project, "PULUMI_STACK="+config.Stack,
			"PULUMI_DRY_RUN="+strconv.FormatBool(config.DryRun))
		if config.Organization != "" {
			cmd.Env = append(cmd.Env, "PULUMI_ORGANIZATION="+config.Organization)
		}
		if config.Config != nil {
			configJSON, err := json.Marshal(config.Config)
			if err != nil {
				return err
			}
			cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(configJSON))
		}
	}
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start the policy pack: %w", err)
	}
	if err := proxy.Attach(ctx, cmd); err != nil {
		return fmt.Errorf("could not attach the policy pack proxy: %w", err)
	}
	return closer.Close()
}
