<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AnalysisTools</name>
    <message>
        <location filename="../plugin/maptools/analysis_tools.py" line="24"/>
        <source>Renewal Planner analysis tools</source>
        <translation>城市更新规划助手 分析工具</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/analysis_tools.py" line="30"/>
        <source>Cross-section / 横断面</source>
        <translation>横断面 / Cross-section</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/analysis_tools.py" line="30"/>
        <source>Draw a section line across a street: its pipes at their depths, with clearances</source>
        <translation>横跨街道画一条剖切线：显示管线的埋深位置及其间净距</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/analysis_tools.py" line="32"/>
        <source>Profile / 纵断面</source>
        <translation>纵断面 / Profile</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/analysis_tools.py" line="32"/>
        <source>Click a pipe: the longitudinal profile of its run, with slopes and crossings</source>
        <translation>点击一条管线：显示其所在管段串的纵断面、坡度及交叉管线</translation>
    </message>
</context>
<context>
    <name>CheckAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="188"/>
        <source>Check conflicts</source>
        <translation>冲突检查</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="191"/>
        <source>Checks</source>
        <translation>检查</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="199"/>
        <source>Runs the conflict checks on a project GeoPackage and merges the findings into its conflict table (reviews are kept, findings that no longer occur become resolved). Rules to run: comma-separated ids among {0} (empty: all). Area: the uid of a renovation area. The DEM defaults to PROJECT_dem.tif beside the project.</source>
        <translation>对项目 GeoPackage 运行冲突检查，并将结果合并到其冲突检查结果表中（保留审核意见，不再出现的问题标记为已解决）。要运行的规则：以逗号分隔的规则编号，可选 {0}（留空：全部）。片区：改造片区的编号。DEM 默认为项目旁的 PROJECT_dem.tif。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="208"/>
        <source>Rules profile (YAML)</source>
        <translation>规则配置（YAML）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="208"/>
        <source>Rules profile (*.yaml *.yml)</source>
        <translation>规则配置 (*.yaml *.yml)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="211"/>
        <source>Rules to run (comma-separated ids, empty: all)</source>
        <translation>要运行的规则（以逗号分隔的规则编号，留空：全部）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="213"/>
        <source>DEM (GeoTIFF)</source>
        <translation>数字高程模型 DEM（GeoTIFF）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="215"/>
        <source>Renovation area (uid, empty: whole project)</source>
        <translation>改造片区（编号，留空：整个项目）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="217"/>
        <source>Certain findings only (count and CSV)</source>
        <translation>仅确定的问题（计数与 CSV）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="219"/>
        <source>Findings CSV</source>
        <translation>检查结果 CSV</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="219"/>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="222"/>
        <source>Number of findings</source>
        <translation>问题数</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="223"/>
        <source>Number of certain findings</source>
        <translation>确定的问题数</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="224"/>
        <source>New findings</source>
        <translation>新发现的问题数</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="225"/>
        <source>Resolved findings</source>
        <translation>已解决的问题数</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="226"/>
        <source>Conflict table</source>
        <translation>冲突检查结果表</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="235"/>
        <source>No project file given</source>
        <translation>未指定项目文件</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="255"/>
        <source>Canceled: nothing was written</source>
        <translation>已取消：未写入任何内容</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="206"/>
        <source>Project (GeoPackage file or PostGIS connection)</source>
        <translation>项目（GeoPackage 文件或 PostGIS 连接）</translation>
    </message>
</context>
<context>
    <name>ChecksTab</name>
    <message>
        <location filename="../plugin/checks_tab.py" line="104"/>
        <source>Check options</source>
        <translation>检查选项</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="108"/>
        <source>Rules to run (all by default)</source>
        <translation>要运行的规则（默认全部）</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="115"/>
        <source>Rules</source>
        <translation>规则</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="118"/>
        <source>All</source>
        <translation>全选</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="121"/>
        <source>None</source>
        <translation>全不选</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="132"/>
        <source>Rules profile (*.yaml *.yml)</source>
        <translation>规则配置 (*.yaml *.yml)</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="133"/>
        <source>Optional local rules profile; empty: the national defaults</source>
        <translation>可选的地方规则配置；留空：使用国家标准默认值</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="134"/>
        <source>Rules profile</source>
        <translation>规则配置</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="137"/>
        <source>GeoTIFF (*.tif *.tiff)</source>
        <translation>GeoTIFF 栅格 (*.tif *.tiff)</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="138"/>
        <source>Optional DEM; empty: PROJECT_dem.tif beside the project if there is one</source>
        <translation>可选的 DEM；留空：使用项目旁的 PROJECT_dem.tif（如有）</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="139"/>
        <source>DEM</source>
        <translation>数字高程模型 DEM</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="142"/>
        <source>Whole project</source>
        <translation>整个项目</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="143"/>
        <source>Renovation area</source>
        <translation>改造片区</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="144"/>
        <source>Show certain findings only</source>
        <translation>只显示确定的问题</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="151"/>
        <source>Run checks</source>
        <translation>运行检查</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="157"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="172"/>
        <source>Findings</source>
        <translation>检查结果</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="187"/>
        <source>Search ids, features, messages, notes…</source>
        <translation>搜索编号、要素、说明、审核意见…</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="229"/>
        <source>Review note (optional)</source>
        <translation>审核意见（可选）</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="230"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="232"/>
        <source>Set the review of the selected findings</source>
        <translation>设置所选检查结果的审核状态</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="234"/>
        <source>Review</source>
        <translation>审核</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="269"/>
        <source>All rules</source>
        <translation>全部规则</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="269"/>
        <source>All severities</source>
        <translation>全部严重程度</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="270"/>
        <source>All certainties</source>
        <translation>全部确定性</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="270"/>
        <source>All reviews</source>
        <translation>全部审核状态</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="378"/>
        <source>Open a project first</source>
        <translation>请先打开一个项目</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="381"/>
        <source>The checks are already running</source>
        <translation>检查正在运行</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="385"/>
        <source>Choose at least one rule</source>
        <translation>请至少选择一条规则</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="388"/>
        <source>Checking conflicts</source>
        <translation>正在进行冲突检查</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="398"/>
        <source>Checking…</source>
        <translation>正在检查…</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="440"/>
        <source>{0} findings ({1} certain): {2} new, {3} resolved</source>
        <translation>共 {0} 个问题（{1} 个确定）：新增 {2} 个，已解决 {3} 个</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="450"/>
        <source>The checks failed: {0}</source>
        <translation>检查失败：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="455"/>
        <source>Checks canceled: nothing was written</source>
        <translation>检查已取消：未写入任何内容</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="468"/>
        <source>Could not read the findings: {0}</source>
        <translation>无法读取检查结果：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="488"/>
        <source>{0} of {1} findings</source>
        <translation>显示 {0} / 共 {1} 条</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="563"/>
        <source>Select one or more findings first</source>
        <translation>请先选择一条或多条检查结果</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="570"/>
        <source>Could not save the review: {0}</source>
        <translation>无法保存审核：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/checks_tab.py" line="576"/>
        <source>{0} findings set to {1}</source>
        <translation>已将 {0} 条检查结果设为{1}</translation>
    </message>
</context>
<context>
    <name>DemoAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="130"/>
        <source>Build demo district</source>
        <translation>生成示范片区</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="133"/>
        <source>Builds the synthetic demo district (buildings, roads, pipelines, trees, parking, DEM) as a Renewal Planner project in the output folder.</source>
        <translation>在输出文件夹中生成合成示范片区（建筑、道路、管线、树木、停车、DEM），作为一个城市更新规划助手项目。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="137"/>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="139"/>
        <source>Random seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="142"/>
        <source>Project GeoPackage</source>
        <translation>项目 GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="151"/>
        <source>No output folder given</source>
        <translation>未指定输出文件夹</translation>
    </message>
</context>
<context>
    <name>ImportAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="362"/>
        <source>Import survey data</source>
        <translation>导入探测数据</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="365"/>
        <source>Imports a survey delivery (GeoPackage, Shapefile, GeoJSON, DXF, CSV/XLSX point or line table, EPANET .inp) into the project&apos;s pipe_point / pipe_segment layers in one transaction. Every record is accepted or kept in import_reject with its reason; the batch is recorded in import_batch.</source>
        <translation>将一次探测成果（GeoPackage、Shapefile、GeoJSON、DXF、CSV/XLSX 管线点或管线段成果表、EPANET .inp）在一个事务中导入项目的 pipe_point / pipe_segment 图层。每条记录或被接收，或连同原因保存在 import_reject 中；批次记录在 import_batch 中。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="373"/>
        <source>File to import</source>
        <translation>要导入的文件</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="374"/>
        <source>Target layer (auto, pipe_point, pipe_segment)</source>
        <translation>目标图层（auto、pipe_point、pipe_segment）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="376"/>
        <source>Field mapping (YAML/JSON)</source>
        <translation>字段映射（YAML/JSON）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="376"/>
        <source>Mapping (*.yaml *.yml *.json)</source>
        <translation>映射文件 (*.yaml *.yml *.json)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="379"/>
        <source>CRS of a file without one (empty: the project&apos;s)</source>
        <translation>无坐标系文件的坐标系（留空：使用项目坐标系）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="381"/>
        <source>Text encoding (empty: detected)</source>
        <translation>文本编码（留空：自动识别）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="383"/>
        <source>Batch name</source>
        <translation>批次名称</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="384"/>
        <source>Report (HTML; an XLSX of the rejects is written beside it)</source>
        <translation>报告（HTML；拒收记录的 XLSX 写在其旁边）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="384"/>
        <source>HTML files (*.html)</source>
        <translation>HTML 文件 (*.html)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="398"/>
        <source>A project and a file are needed</source>
        <translation>需要指定项目和文件</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="371"/>
        <source>Project (GeoPackage file or PostGIS connection)</source>
        <translation>项目（GeoPackage 文件或 PostGIS 连接）</translation>
    </message>
</context>
<context>
    <name>ImportTab</name>
    <message>
        <location filename="../plugin/import_tab.py" line="75"/>
        <source>Files to import</source>
        <translation>要导入的文件</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="81"/>
        <source>Survey files (*.csv *.txt *.xlsx *.xlsm *.shp *.gpkg *.geojson *.json *.dxf *.inp)</source>
        <translation>测量成果文件 (*.csv *.txt *.xlsx *.xlsm *.shp *.gpkg *.geojson *.json *.dxf *.inp)</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="83"/>
        <source>Point and line tables, shapefiles, GeoPackages, DXF, GeoJSON</source>
        <translation>管线点表、管线段表、Shapefile、GeoPackage、DXF、GeoJSON</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="84"/>
        <source>Files</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="516"/>
        <source>Mapping file (*.yaml *.yml *.json)</source>
        <translation>字段映射文件 (*.yaml *.yml *.json)</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="88"/>
        <source>Optional mapping file, as the command line&apos;s --mapping</source>
        <translation>可选的字段映射文件，与命令行 --mapping 相同</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="89"/>
        <source>Mapping file</source>
        <translation>字段映射文件</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="92"/>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="95"/>
        <source>Target layer</source>
        <translation>目标图层</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="98"/>
        <source>automatic (time and file checksum)</source>
        <translation>自动（时间与文件校验和）</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="99"/>
        <source>Batch name</source>
        <translation>批次名称</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="102"/>
        <source>Plan</source>
        <translation>预检</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="104"/>
        <source>Read and check the files without writing anything</source>
        <translation>读取并检查文件，不写入任何数据</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="109"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="124"/>
        <source>Detected settings</source>
        <translation>识别结果</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="134"/>
        <source>Layers</source>
        <translation>图层</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="140"/>
        <source>Encoding</source>
        <translation>编码</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="144"/>
        <source>CRS</source>
        <translation>坐标参考系</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="148"/>
        <source>Records</source>
        <translation>记录</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="152"/>
        <source>Source column</source>
        <translation>源列</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="152"/>
        <source>Example</source>
        <translation>示例</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="152"/>
        <source>Model field</source>
        <translation>模型字段</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="160"/>
        <source>Re-plan</source>
        <translation>重新预检</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="162"/>
        <source>Plan again with the corrected mapping, encoding and CRS</source>
        <translation>按修改后的映射、编码和坐标系重新预检</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="164"/>
        <source>Save mapping…</source>
        <translation>保存映射…</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="166"/>
        <source>Save this file&apos;s mapping for the command line&apos;s --mapping</source>
        <translation>保存此文件的字段映射，供命令行 --mapping 使用</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="174"/>
        <source>Rejected records</source>
        <translation>拒收记录</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="178"/>
        <source>Record</source>
        <translation>记录号</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="178"/>
        <source>Layer</source>
        <translation>图层</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="178"/>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="178"/>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="178"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="187"/>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="189"/>
        <source>Write the accepted records and the rejects in one transaction</source>
        <translation>在一个事务中写入接收的记录和拒收记录</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="191"/>
        <source>Write report…</source>
        <translation>生成报告…</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="193"/>
        <source>HTML report and XLSX of the rejects of the last import</source>
        <translation>上次导入的 HTML 报告和拒收记录 XLSX</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="195"/>
        <source>Discard</source>
        <translation>放弃</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="197"/>
        <source>Forget the plan and remove the preview layers</source>
        <translation>放弃预检结果并移除预览图层</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="228"/>
        <source>X (north coordinate)</source>
        <translation>X（北坐标）</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="228"/>
        <source>Y (east coordinate)</source>
        <translation>Y（东坐标）</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="229"/>
        <source>connected point numbers</source>
        <translation>连接点号</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="229"/>
        <source>size (DN, width×height)</source>
        <translation>管径/断面（DN、宽×高）</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="230"/>
        <source>pipe top elevation</source>
        <translation>管顶高程</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="230"/>
        <source>pipe invert elevation</source>
        <translation>管底高程</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="231"/>
        <source>cover size</source>
        <translation>井盖尺寸</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="236"/>
        <source>(ignore)</source>
        <translation>（忽略）</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="331"/>
        <source>Open a project first</source>
        <translation>请先打开项目</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="621"/>
        <source>An import task is still running</source>
        <translation>导入任务仍在运行</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="339"/>
        <source>Could not read the mapping file: {0}</source>
        <translation>无法读取字段映射文件：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="342"/>
        <source>Choose the files to import first</source>
        <translation>请先选择要导入的文件</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="345"/>
        <source>Planning the import</source>
        <translation>正在预检导入</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="345"/>
        <source>Reading and checking…</source>
        <translation>正在读取和检查…</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="374"/>
        <source>Planned {0} files: {1} records accepted, {2} rejected. Nothing written yet.</source>
        <translation>已预检 {0} 个文件：接收 {1} 条记录，拒收 {2} 条。尚未写入任何数据。</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="377"/>
        <source>{0} files were imported before with the same mapping.</source>
        <translation>{0} 个文件此前已用相同映射导入过。</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="383"/>
        <source>{0}: {1} accepted, {2} rejected</source>
        <translation>{0}：接收 {1}，拒收 {2}</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="404"/>
        <source>{0} records: {1} accepted (new {2}, updated {3}, unchanged {4}), {5} rejected</source>
        <translation>{0} 条记录：接收 {1} 条（新增 {2}，更新 {3}，未变 {4}），拒收 {5} 条</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="618"/>
        <source>Edited: Re-plan to see the effect before importing.</source>
        <translation>已修改：请先重新预检查看效果，再导入。</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="516"/>
        <source>Save mapping</source>
        <translation>保存映射</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="523"/>
        <source>Could not save the mapping: {0}</source>
        <translation>无法保存映射：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="525"/>
        <source>Mapping saved to {0}</source>
        <translation>映射已保存到 {0}</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="536"/>
        <source>Import preview</source>
        <translation>导入预览</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="555"/>
        <source>Preview {0}: {1} ({2})</source>
        <translation>预览 {0}：{1}（{2}）</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="615"/>
        <source>Plan the import first</source>
        <translation>请先预检导入</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="624"/>
        <source>Importing</source>
        <translation>正在导入</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="624"/>
        <source>Writing…</source>
        <translation>正在写入…</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="650"/>
        <source>Imported {0} batches: {1}</source>
        <translation>已导入 {0} 个批次：{1}</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="694"/>
        <source>Import something first</source>
        <translation>请先导入数据</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="697"/>
        <source>Write report</source>
        <translation>生成报告</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="697"/>
        <source>Report (*.html *.xlsx)</source>
        <translation>报告 (*.html *.xlsx)</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="704"/>
        <source>Could not write the report: {0}</source>
        <translation>无法生成报告：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="706"/>
        <source>Report written: {0}</source>
        <translation>报告已生成：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="772"/>
        <source>{0} failed: {1}</source>
        <translation>{0} 失败：{1}</translation>
    </message>
    <message>
        <location filename="../plugin/import_tab.py" line="778"/>
        <source>Canceled: nothing was written</source>
        <translation>已取消：未写入任何数据</translation>
    </message>
</context>
<context>
    <name>InitAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="78"/>
        <source>Create project</source>
        <translation>创建项目</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="81"/>
        <source>Creates an empty Renewal Planner project GeoPackage with every layer, code list, style and form. The CRS must be projected in metres (CGCS2000 / 3-degree Gauss-Kruger, e.g. EPSG:4547). An existing file is never overwritten.</source>
        <translation>创建一个空的城市更新规划助手项目 GeoPackage，包含全部图层、代码表、样式和表单。坐标系必须是以米为单位的投影坐标系（CGCS2000 / 3 度带高斯-克吕格，例如 EPSG:4547）。不会覆盖已有文件。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="87"/>
        <source>Project GeoPackage</source>
        <translation>项目 GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="87"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="91"/>
        <source>Coordinate reference system</source>
        <translation>坐标参考系</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="106"/>
        <source>Invalid CRS: {0}</source>
        <translation>无效的坐标系：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="109"/>
        <source>No project file given</source>
        <translation>未指定项目文件</translation>
    </message>
</context>
<context>
    <name>LiveChecks</name>
    <message>
        <location filename="../plugin/live_checks.py" line="137"/>
        <source>Check while drawing / 边画边查</source>
        <translation>边画边查 / Check while drawing</translation>
    </message>
    <message>
        <location filename="../plugin/live_checks.py" line="142"/>
        <source>Check every feature as it is drawn or changed, against the rules that involve its layer</source>
        <translation>每个要素绘制或修改时，即按涉及其图层的规则进行检查</translation>
    </message>
    <message>
        <location filename="../plugin/live_checks.py" line="265"/>
        <source>Checking the edited features</source>
        <translation>正在检查编辑的要素</translation>
    </message>
    <message>
        <location filename="../plugin/live_checks.py" line="293"/>
        <source>Check while drawing failed: {0}</source>
        <translation>边画边查失败：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/live_checks.py" line="322"/>
        <source>Check while drawing</source>
        <translation>边画边查</translation>
    </message>
    <message>
        <location filename="../plugin/live_checks.py" line="327"/>
        <source> … and {0} more (Checks tab)</source>
        <translation> … 另有 {0} 条（见检查页）</translation>
    </message>
    <message>
        <location filename="../plugin/live_checks.py" line="335"/>
        <source>{0}: no conflicts now</source>
        <translation>{0}：已无冲突</translation>
    </message>
    <message>
        <location filename="../plugin/live_checks.py" line="377"/>
        <source>live (unsaved)</source>
        <translation>实时（未保存）</translation>
    </message>
</context>
<context>
    <name>PlotPanel</name>
    <message>
        <location filename="../plugin/maptools/section_tool.py" line="119"/>
        <source>Export PNG…</source>
        <translation>导出 PNG…</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/section_tool.py" line="119"/>
        <source>Export SVG…</source>
        <translation>导出 SVG…</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/section_tool.py" line="119"/>
        <source>Export PDF…</source>
        <translation>导出 PDF…</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/section_tool.py" line="173"/>
        <source>Export the plot</source>
        <translation>导出图件</translation>
    </message>
</context>
<context>
    <name>PostgisPanel</name>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="27"/>
        <source>A PostgreSQL connection saved in QGIS (Data Source Manager); its password stays in QGIS&apos;s authentication database</source>
        <translation>QGIS 中保存的 PostgreSQL 连接（数据源管理器）；其密码保存在 QGIS 的认证数据库中</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="32"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="33"/>
        <source>Read the saved connections and the project schemas again</source>
        <translation>重新读取已保存的连接和项目模式</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="36"/>
        <source>Connection</source>
        <translation>连接</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="40"/>
        <source>Schemas of this database that are Renewal Planner projects</source>
        <translation>此数据库中属于城市更新规划项目的模式</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="41"/>
        <source>Project schema</source>
        <translation>项目模式</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="43"/>
        <source>Open PostGIS project</source>
        <translation>打开 PostGIS 项目</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="45"/>
        <source>Add the styled layers of the project schema to the map</source>
        <translation>将项目模式中带样式的图层添加到地图</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="51"/>
        <source>new schema name, e.g. district_a</source>
        <translation>新模式名称，例如 district_a</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="52"/>
        <source>Create project schema</source>
        <translation>创建项目模式</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="54"/>
        <source>Create a new project schema (tables, constraints, styles, history) in the background</source>
        <translation>在后台创建新的项目模式（表、约束、样式、修改历史）</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="102"/>
        <source>(no saved PostgreSQL connection)</source>
        <translation>（没有已保存的 PostgreSQL 连接）</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="121"/>
        <source>Could not list the project schemas of {0}: {1}</source>
        <translation>无法列出 {0} 的项目模式：{1}</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="126"/>
        <source>(no Renewal Planner project here)</source>
        <translation>（此处没有城市更新规划项目）</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="136"/>
        <source>Choose a connection and a project schema first</source>
        <translation>请先选择连接和项目模式</translation>
    </message>
    <message>
        <location filename="../plugin/project_tab_pg.py" line="145"/>
        <source>Choose a connection and type a new schema name first</source>
        <translation>请先选择连接并输入新模式名称</translation>
    </message>
</context>
<context>
    <name>ProfileMapTool</name>
    <message>
        <location filename="../plugin/maptools/profile_tool.py" line="29"/>
        <source>Profile</source>
        <translation>纵断面</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/profile_tool.py" line="77"/>
        <source>No profile: {0}</source>
        <translation>无法生成纵断面：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/profile_tool.py" line="63"/>
        <source>Click on a pipe segment.</source>
        <translation>请点击一条管线段。</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/profile_tool.py" line="83"/>
        <source>{0} segments, {1} m; {2} reverse slopes; {3} crossings too close</source>
        <translation>{0} 段，{1} 米；倒坡 {2} 处；交叉净距不足 {3} 处</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/profile_tool.py" line="92"/>
        <source>Profile / 纵断面</source>
        <translation>纵断面 / Profile</translation>
    </message>
</context>
<context>
    <name>ProjectTab</name>
    <message>
        <location filename="../plugin/dock.py" line="94"/>
        <source>Current project</source>
        <translation>当前项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="96"/>
        <source>No project open</source>
        <translation>未打开项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="124"/>
        <source>New project…</source>
        <translation>新建项目…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="126"/>
        <source>Create an empty project GeoPackage with every layer</source>
        <translation>创建包含全部图层的空项目 GeoPackage</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="128"/>
        <source>Open project…</source>
        <translation>打开项目…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="130"/>
        <source>Add the styled layers of a project GeoPackage to the map</source>
        <translation>将项目 GeoPackage 中已配样式的图层添加到地图</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="132"/>
        <source>Open demo</source>
        <translation>打开示范项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="134"/>
        <source>Build the demo district (with DEM) and open it</source>
        <translation>生成示范片区（含 DEM）并打开</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="143"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="201"/>
        <source>New Renewal Planner project</source>
        <translation>新建城市更新规划项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="223"/>
        <source>GeoPackage (*.gpkg)</source>
        <translation>GeoPackage (*.gpkg)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="302"/>
        <source>Could not create the project: {0}</source>
        <translation>无法创建项目：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="218"/>
        <source>Created project {0}</source>
        <translation>已创建项目 {0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="223"/>
        <source>Open Renewal Planner project</source>
        <translation>打开城市更新规划项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="279"/>
        <source>Could not open the project: {0}</source>
        <translation>无法打开项目：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="327"/>
        <source>Building the Renewal Planner demo district</source>
        <translation>正在生成城市更新示范片区</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="334"/>
        <source>The demo did not return a project</source>
        <translation>示范程序未返回项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="336"/>
        <source>Demo district built in {0}</source>
        <translation>示范片区已生成于 {0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="342"/>
        <source>Another task is still running</source>
        <translation>另一个任务仍在运行</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="362"/>
        <source>{0} failed: {1}</source>
        <translation>{0} 失败：{1}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="366"/>
        <source>{0}: canceled</source>
        <translation>{0}：已取消</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="104"/>
        <source>Project in</source>
        <translation>项目位于</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="107"/>
        <source>GeoPackage file</source>
        <translation>GeoPackage 文件</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="108"/>
        <source>PostGIS database</source>
        <translation>PostGIS 数据库</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="238"/>
        <source>Open a PostGIS project through a saved QGIS connection (Project in: PostGIS database)</source>
        <translation>请通过 QGIS 中保存的连接打开 PostGIS 项目（项目位于：PostGIS 数据库）</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="289"/>
        <source>{0} (connection {1})</source>
        <translation>{0}（连接 {1}）</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="314"/>
        <source>Created project schema {0} (connection {1})</source>
        <translation>已创建项目模式 {0}（连接 {1}）</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="320"/>
        <source>Creating the PostGIS project {0}</source>
        <translation>正在创建 PostGIS 项目 {0}</translation>
    </message>
</context>
<context>
    <name>QuantitiesAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="441"/>
        <source>Quantities</source>
        <translation>工程量统计</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="444"/>
        <source>Quantities per renovation area and community: pipe length by class, diameter, material and status (km), appurtenances, parking stalls, trees, planting area, fire lanes, buildings, households and floor area. Writes an XLSX workbook (a summary sheet and one sheet per theme, Chinese and English headers) or one long CSV table.</source>
        <translation>按改造片区和小区统计工程量：按类别、管径、材质和状态统计的管线长度（km）、附属物、停车位、树木、种植面积、消防车通道、楼栋、户数和建筑面积。输出 XLSX 工作簿（一张汇总表和每个专题一张表，中英文表头）或一张长格式 CSV 表。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="452"/>
        <source>Only this renovation area (uid; empty: all)</source>
        <translation>仅统计此改造片区（编号；留空：全部）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="454"/>
        <source>Quantities file</source>
        <translation>工程量文件</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="454"/>
        <source>Excel workbook (*.xlsx);;CSV (*.csv)</source>
        <translation>Excel 工作簿 (*.xlsx);;CSV (*.csv)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="469"/>
        <source>A project and an output file are needed</source>
        <translation>需要指定项目和输出文件</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="473"/>
        <source>Measuring quantities</source>
        <translation>正在统计工程量</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="450"/>
        <source>Project (GeoPackage file or PostGIS connection)</source>
        <translation>项目（GeoPackage 文件或 PostGIS 连接）</translation>
    </message>
</context>
<context>
    <name>QuantitiesTab</name>
    <message>
        <location filename="../plugin/quantities_tab.py" line="275"/>
        <source>Quantities</source>
        <translation>工程量</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="280"/>
        <source>Whole project</source>
        <translation>整个项目</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="281"/>
        <source>Renovation area</source>
        <translation>改造片区</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="284"/>
        <source>Compute</source>
        <translation>计算</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="286"/>
        <source>Measure the quantities per renovation area and community</source>
        <translation>按改造片区和小区统计工程量</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="648"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="304"/>
        <source>Compute the quantities to see them here</source>
        <translation>计算工程量后在此显示</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="307"/>
        <source>Export XLSX…</source>
        <translation>导出 XLSX…</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="310"/>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="650"/>
        <source>Findings report</source>
        <translation>冲突检查报告</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="321"/>
        <source>Report…</source>
        <translation>报告…</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="323"/>
        <source>Write the report of the project&apos;s findings as PDF, HTML or XLSX</source>
        <translation>将项目的检查结果输出为 PDF、HTML 或 XLSX 报告</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="591"/>
        <source>Open a project first</source>
        <translation>请先打开项目</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="452"/>
        <source>The quantities are already being computed</source>
        <translation>工程量正在计算中</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="455"/>
        <source>Computing quantities</source>
        <translation>正在计算工程量</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="495"/>
        <source>Quantities computed</source>
        <translation>工程量计算完成</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="500"/>
        <source>The quantities failed: {0}</source>
        <translation>工程量计算失败：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="504"/>
        <source>Quantities canceled</source>
        <translation>工程量计算已取消</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="538"/>
        <source>Compute the quantities first</source>
        <translation>请先计算工程量</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="544"/>
        <source>Excel workbook (*.xlsx)</source>
        <translation>Excel 工作簿 (*.xlsx)</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="544"/>
        <source>CSV (*.csv)</source>
        <translation>CSV 表格 (*.csv)</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="545"/>
        <source>Export the quantities</source>
        <translation>导出工程量</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="557"/>
        <source>Could not export the quantities: {0}</source>
        <translation>无法导出工程量：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="562"/>
        <source>Quantities written to {0}</source>
        <translation>工程量已写入 {0}</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="594"/>
        <source>A report is already being written</source>
        <translation>报告正在生成中</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="598"/>
        <source>A report is written as .pdf, .html or .xlsx</source>
        <translation>报告须为 .pdf、.html 或 .xlsx 文件</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="635"/>
        <source>Writing the report</source>
        <translation>正在生成报告</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="668"/>
        <source>Writing {0}…</source>
        <translation>正在写入 {0}…</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="648"/>
        <source>Writing the report…</source>
        <translation>正在生成报告…</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="657"/>
        <source>Cover page</source>
        <translation>封面</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="657"/>
        <source>Atlas pages</source>
        <translation>图集页</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="658"/>
        <source>List of findings</source>
        <translation>问题清单</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="658"/>
        <source>Done</source>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="695"/>
        <source>Report written: {0} ({1} findings, {2} pages)</source>
        <translation>报告已生成：{0}（{1} 条问题，{2} 页）</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="698"/>
        <source>Report written: {0} ({1} findings)</source>
        <translation>报告已生成：{0}（{1} 条问题）</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="703"/>
        <source>The report failed: {0}</source>
        <translation>报告生成失败：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="708"/>
        <source>Report canceled: nothing was written</source>
        <translation>报告已取消：未写入任何文件</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="44"/>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="62"/>
        <source>Missing Python packages: {0}</source>
        <translation>缺少 Python 软件包：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="30"/>
        <source>GeoPackage (*.gpkg);;PostGIS project string (*)</source>
        <translation>GeoPackage (*.gpkg);;PostGIS 项目连接串 (*)</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerDock</name>
    <message>
        <location filename="../plugin/dock.py" line="415"/>
        <source>Renewal Planner / 城市更新规划助手</source>
        <translation>城市更新规划助手 / Renewal Planner</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="419"/>
        <source>Project</source>
        <translation>项目</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="428"/>
        <source>Checks</source>
        <translation>冲突检查</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="435"/>
        <source>Import</source>
        <translation>导入</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="445"/>
        <source>Quantities</source>
        <translation>工程量</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerPlugin</name>
    <message>
        <location filename="../plugin/main.py" line="158"/>
        <source>Renewal Planner</source>
        <translation>城市更新规划助手</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="107"/>
        <source>Show or hide the Renewal Planner dock</source>
        <translation>显示或隐藏城市更新规划助手面板</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="147"/>
        <source>{0} {1} (need &gt;= {2})</source>
        <translation>{0} {1}（需要 &gt;= {2}）</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="147"/>
        <source>{0} (not installed)</source>
        <translation>{0}（未安装）</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="151"/>
        <source>QGIS&apos;s Python lacks {0}. Install with: {1} (add --break-system-packages on Debian 12 and later), or run `make run` from the Renewal Planner source tree. Until then the features that need them are disabled.</source>
        <translation>QGIS 的 Python 缺少 {0}。安装命令：{1}（Debian 12 及更高版本需加 --break-system-packages），或在城市更新规划助手源码目录中运行 `make run`。在此之前，需要这些软件包的功能不可用。</translation>
    </message>
</context>
<context>
    <name>RenewalPlannerProvider</name>
    <message>
        <location filename="../plugin/provider.py" line="29"/>
        <source>Renewal Planner: urban renewal planning and conflict checks</source>
        <translation>城市更新规划助手：城市更新规划与冲突检查</translation>
    </message>
</context>
<context>
    <name>ReportAlgorithm</name>
    <message>
        <location filename="../plugin/algorithms.py" line="511"/>
        <source>Findings report</source>
        <translation>冲突检查报告</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="514"/>
        <source>Checks</source>
        <translation>冲突检查</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="524"/>
        <source>Writes the report of the project&apos;s findings: a PDF (cover with an overview map and the summary by rule, severity, certainty and review status; one atlas page per open finding, at most the given number, by severity; the list of all findings), one self-contained HTML file with the same content, or an XLSX of all findings. The format follows the file name (.pdf, .html, .xlsx).</source>
        <translation>输出项目冲突检查结果报告：PDF（封面含总览图及按规则、严重程度、确定性和审核状态的汇总；每个待审核冲突一页图集，按严重程度排序，不超过给定页数；全部冲突列表）、内容相同的单文件 HTML，或全部冲突的 XLSX。格式由文件扩展名决定（.pdf、.html、.xlsx）。</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="535"/>
        <source>Report</source>
        <translation>报告</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="535"/>
        <source>PDF (*.pdf);;HTML (*.html);;Excel workbook (*.xlsx)</source>
        <translation>PDF (*.pdf);;HTML (*.html);;Excel 工作簿 (*.xlsx)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="538"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="538"/>
        <source>Chinese and English</source>
        <translation>中文和英文</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="538"/>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="538"/>
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="541"/>
        <source>Atlas pages at most (open findings, by severity)</source>
        <translation>图集最多页数（待审核冲突，按严重程度）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="544"/>
        <source>Number of findings</source>
        <translation>冲突数量</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="545"/>
        <source>Pages (PDF)</source>
        <translation>页数（PDF）</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="555"/>
        <source>No project file given</source>
        <translation>未指定项目文件</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="567"/>
        <source>Canceled: nothing was written</source>
        <translation>已取消：未写入任何内容</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms.py" line="533"/>
        <source>Project (GeoPackage file or PostGIS connection)</source>
        <translation>项目（GeoPackage 文件或 PostGIS 连接）</translation>
    </message>
</context>
<context>
    <name>ReportOptionsDialog</name>
    <message>
        <location filename="../plugin/quantities_tab.py" line="178"/>
        <source>Findings report</source>
        <translation>冲突检查报告</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="184"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="189"/>
        <source>Report file</source>
        <translation>报告文件</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="192"/>
        <source>Chinese and English</source>
        <translation>中英双语</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="192"/>
        <source>Chinese</source>
        <translation>中文</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="192"/>
        <source>English</source>
        <translation>英文</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="196"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="201"/>
        <source>One map page per open finding, by severity, at most this many (PDF and HTML); the list always holds every finding</source>
        <translation>每条未处理问题一页地图，按严重程度排序，最多这么多页（PDF 和 HTML）；问题清单始终包含全部问题</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="203"/>
        <source>Atlas pages at most</source>
        <translation>图集页上限</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="223"/>
        <source>PDF (*.pdf)</source>
        <translation>PDF 文件 (*.pdf)</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="223"/>
        <source>HTML (*.html)</source>
        <translation>HTML 网页 (*.html)</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="223"/>
        <source>Excel workbook (*.xlsx)</source>
        <translation>Excel 工作簿 (*.xlsx)</translation>
    </message>
    <message>
        <location filename="../plugin/quantities_tab.py" line="226"/>
        <source>Save the report</source>
        <translation>保存报告</translation>
    </message>
</context>
<context>
    <name>ReviewPanel</name>
    <message>
        <location filename="../plugin/review_panel.py" line="63"/>
        <source>Group by</source>
        <translation>分组方式</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="66"/>
        <source>No grouping</source>
        <translation>不分组</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="66"/>
        <source>Renovation area</source>
        <translation>改造片区</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="66"/>
        <source>Rule</source>
        <translation>规则</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="66"/>
        <source>Owner of the pipes</source>
        <translation>管线权属单位</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="66"/>
        <source>Review status</source>
        <translation>审核状态</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="77"/>
        <source>Group</source>
        <translation>分组</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="77"/>
        <source>Findings</source>
        <translation>检查结果</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="87"/>
        <source>Select all shown</source>
        <translation>全选所示</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="89"/>
        <source>Select every finding shown, to review them at once</source>
        <translation>选中列表中显示的全部结果，一次完成审核</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="95"/>
        <source>Export owner sheets…</source>
        <translation>导出权属单位审核表…</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="97"/>
        <source>One XLSX per owner of the pipes involved, to send to the utilities for review</source>
        <translation>按涉及管线的权属单位各导出一个 XLSX，发给各管线单位审核</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="100"/>
        <source>Import owner sheet…</source>
        <translation>导入权属单位审核表…</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="102"/>
        <source>Apply the review statuses and notes of a returned owner sheet</source>
        <translation>应用返回的权属单位审核表中的审核状态和意见</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="137"/>
        <source>Could not group the findings: {0}</source>
        <translation>无法对检查结果分组：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="145"/>
        <source>All findings</source>
        <translation>全部检查结果</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="201"/>
        <source>Folder for the owner sheets</source>
        <translation>审核表保存文件夹</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="214"/>
        <source>Could not write the owner sheets: {0}</source>
        <translation>无法写出审核表：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="220"/>
        <source>{0} owner sheets written to {1}</source>
        <translation>已写出 {0} 份审核表到 {1}</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="222"/>
        <source>No finding involves a pipe of a known owner: no sheet written</source>
        <translation>没有检查结果涉及已知权属单位的管线：未写出审核表</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="228"/>
        <source>Returned owner sheet</source>
        <translation>返回的审核表</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="228"/>
        <source>Excel workbook (*.xlsx)</source>
        <translation>Excel 工作簿 (*.xlsx)</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="243"/>
        <source>Could not import the owner sheet: {0}</source>
        <translation>无法导入审核表：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="249"/>
        <source>{0}: {1} reviews applied, {2} unchanged</source>
        <translation>{0}：已应用 {1} 条审核，{2} 条未变</translation>
    </message>
    <message>
        <location filename="../plugin/review_panel.py" line="253"/>
        <source>{0} rows not applied (unknown id, invalid status or repeated): rows {1}</source>
        <translation>{0} 行未应用（编号未知、状态无效或重复）：第 {1} 行</translation>
    </message>
</context>
<context>
    <name>RowMapTool</name>
    <message>
        <location filename="../plugin/maptools/base.py" line="263"/>
        <source>{0} placed, {1} skipped</source>
        <translation>布置 {0} 个，跳过 {1} 个</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="311"/>
        <source>No {0} layer in the project: open the project from the Renewal Planner dock first.</source>
        <translation>工程中没有 {0} 图层：请先在城市更新规划助手面板中打开工程。</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="353"/>
        <source>No line or polygon edge under the click to follow.</source>
        <translation>点击处没有可沿用的线或面边界。</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="372"/>
        <source>Nothing to place.</source>
        <translation>没有可布置的位置。</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="376"/>
        <source>Layer {0} is not in edit mode: toggle editing on it first; nothing was added.</source>
        <translation>图层 {0} 未处于编辑状态：请先切换编辑；未添加任何要素。</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="382"/>
        <source>Every position of the row is skipped: nothing was added.</source>
        <translation>该排所有位置均被跳过：未添加任何要素。</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="409"/>
        <source>QGIS refused the new features; nothing was added.</source>
        <translation>QGIS 拒绝了新要素；未添加任何要素。</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="414"/>
        <source>Added {0} features to {1}; {2} positions skipped.</source>
        <translation>已向 {1} 添加 {0} 个要素；跳过 {2} 个位置。</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="430"/>
        <source>Row</source>
        <translation>成排布置</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="67"/>
        <source>fire lane</source>
        <translation>消防通道</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="68"/>
        <source>cover</source>
        <translation>井盖</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="69"/>
        <source>hydrant</source>
        <translation>消火栓</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="70"/>
        <source>tree</source>
        <translation>树木</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="71"/>
        <source>building</source>
        <translation>建筑</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="72"/>
        <source>stall</source>
        <translation>车位</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/base.py" line="73"/>
        <source>pipe</source>
        <translation>管线</translation>
    </message>
</context>
<context>
    <name>RowTools</name>
    <message>
        <location filename="../plugin/maptools/__init__.py" line="23"/>
        <source>Renewal Planner drawing tools</source>
        <translation>城市更新规划助手绘图工具</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/__init__.py" line="29"/>
        <source>Stall row / 车位排布</source>
        <translation>车位排布</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/__init__.py" line="29"/>
        <source>Draw a row of parking stalls; positions on fire lanes, covers, hydrants, trees or buildings are skipped</source>
        <translation>绘制一排停车位；位于消防车通道、井盖、消火栓、树木或建筑上的位置将被跳过</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/__init__.py" line="32"/>
        <source>Tree row / 行道树排布</source>
        <translation>行道树排布</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/__init__.py" line="32"/>
        <source>Draw a row of trees at a spacing; positions too close to a pipe or in a fire lane are skipped</source>
        <translation>按株距绘制一排树木；距管线过近或位于消防车通道内的位置将被跳过</translation>
    </message>
</context>
<context>
    <name>SectionMapTool</name>
    <message>
        <location filename="../plugin/maptools/section_tool.py" line="227"/>
        <source>Cross-section</source>
        <translation>横断面</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/section_tool.py" line="274"/>
        <source>No cross-section: {0}</source>
        <translation>无法生成横断面：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/section_tool.py" line="281"/>
        <source>{0} pipes cut, {1} clearance breaches; ground: {2}</source>
        <translation>剖切到 {0} 条管线，净距不足 {1} 处；地面线来源：{2}</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/section_tool.py" line="290"/>
        <source>Cross-section / 横断面</source>
        <translation>横断面 / Cross-section</translation>
    </message>
</context>
<context>
    <name>StallRowPanel</name>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="23"/>
        <source>Stall row / 车位排布</source>
        <translation>车位排布</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="26"/>
        <source>Perpendicular</source>
        <translation>垂直式</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="26"/>
        <source>Parallel</source>
        <translation>平行式</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="27"/>
        <source>Angled {0}°</source>
        <translation>斜列式 {0}°</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="34"/>
        <source>Left of the drawing direction</source>
        <translation>绘制方向左侧</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="35"/>
        <source>Right of the drawing direction</source>
        <translation>绘制方向右侧</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="48"/>
        <source>Layout</source>
        <translation>排列方式</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="49"/>
        <source>Stall width (m)</source>
        <translation>车位宽度 (m)</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="50"/>
        <source>Stall length (m)</source>
        <translation>车位长度 (m)</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="51"/>
        <source>Side</source>
        <translation>布置侧</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="52"/>
        <source>Number prefix</source>
        <translation>编号前缀</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="53"/>
        <source>First number</source>
        <translation>起始编号</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="54"/>
        <source>Accessible share</source>
        <translation>无障碍车位比例</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="55"/>
        <source>EV charging share</source>
        <translation>充电车位比例</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="58"/>
        <source>Click the start and the end of the row (Ctrl+click: follow the kerb edge under the cursor, then click to place). Right click or Esc cancels.</source>
        <translation>点击该排的起点和终点（Ctrl+点击：沿光标下的路缘边线，再点击布置）。右键或 Esc 取消。</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="86"/>
        <source>Preset: {0}</source>
        <translation>预设来源：{0}</translation>
    </message>
</context>
<context>
    <name>StallRowTool</name>
    <message>
        <location filename="../plugin/maptools/stall_row_tool.py" line="130"/>
        <source>Stall row</source>
        <translation>车位排布</translation>
    </message>
</context>
<context>
    <name>TreeRowPanel</name>
    <message>
        <location filename="../plugin/maptools/tree_row_tool.py" line="20"/>
        <source>Tree row / 行道树排布</source>
        <translation>行道树排布</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/tree_row_tool.py" line="29"/>
        <source>Tree (乔木)</source>
        <translation>乔木</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/tree_row_tool.py" line="30"/>
        <source>Shrub (灌木)</source>
        <translation>灌木</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/tree_row_tool.py" line="33"/>
        <source>Spacing (m)</source>
        <translation>株距 (m)</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/tree_row_tool.py" line="34"/>
        <source>Species</source>
        <translation>树种</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/tree_row_tool.py" line="35"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/tree_row_tool.py" line="36"/>
        <source>Preset: {0}</source>
        <translation>预设来源：{0}</translation>
    </message>
    <message>
        <location filename="../plugin/maptools/tree_row_tool.py" line="40"/>
        <source>Click the start and the end of the row (Ctrl+click: follow the edge under the cursor, then click to place). Right click or Esc cancels.</source>
        <translation>点击该排的起点和终点（Ctrl+点击：沿光标下的边线，再点击布置）。右键或 Esc 取消。</translation>
    </message>
</context>
<context>
    <name>TreeRowTool</name>
    <message>
        <location filename="../plugin/maptools/tree_row_tool.py" line="83"/>
        <source>Tree row</source>
        <translation>行道树排布</translation>
    </message>
</context>
</TS>
